using MimeKit;
using O2X.Testing;

namespace O2X.Host.Testing;

/// <summary>What the test SMTP server (aiosmtpd, started by ./test.sh) received: its Maildir, read with MimeKit.</summary>
public static class TestMailbox
{
    /// <summary>Node settings that send the INVOICE destination to the test SMTP server.</summary>
    public static Dictionary<string, string?> NodeSettings()
    {
        var (host, port) = (TestServices.Smtp.Split(':')[0], TestServices.Smtp.Split(':')[1]);
        return new Dictionary<string, string?>
        {
            ["O2X:Destinations:INVOICE:Transport"] = "Smtp",
            ["O2X:Transports:Smtp:Host"] = host,
            ["O2X:Transports:Smtp:Port"] = port,
            // aiosmtpd here offers no TLS: plain SMTP on loopback, the one case the product allows without it.
            ["O2X:Transports:Smtp:Security"] = "None",
            ["O2X:Transports:Smtp:From"] = "billing@o2x.example",
        };
    }

    /// <summary>Every mail received for <paramref name="recipient"/>.</summary>
    public static IReadOnlyList<MimeMessage> For(string recipient)
    {
        var directory = Path.Combine(TestServices.SmtpMaildir, "new");
        if (!Directory.Exists(directory)) return [];
        var mails = new List<MimeMessage>();
        foreach (var file in Directory.GetFiles(directory))
        {
            MimeMessage mail;
            try
            {
                mail = MimeMessage.Load(file);
            }
            catch (IOException)
            {
                continue; // being written: read at the next look
            }

            if (mail.To.Mailboxes.Any(m => string.Equals(m.Address, recipient, StringComparison.OrdinalIgnoreCase))) mails.Add(mail);
        }

        return mails;
    }

    /// <summary>The PDF attached to a mail.</summary>
    public static byte[] Pdf(MimeMessage mail)
    {
        var part = mail.Attachments.OfType<MimePart>().Single(p => p.ContentType.MimeType == "application/pdf");
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return stream.ToArray();
    }
}
