using System.Text.Json;
using MailKit.Net.Smtp;
using MimeKit;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Persistence;
using O2X.Streams.Connectors;

namespace O2X.Host.Bindings;

/// <summary>
/// The INVOICE destination over SMTP (MailKit): each outbox message becomes one e-mail to the invoice's billing contact with
/// the invoice's PDF attached. Its Message-ID is the outbox message id (<c>inv-…@{sender's domain}</c>), so a mail sent again
/// after a crash is recognisably the same mail. Mails go in outbox order on one connection, kept open between batches.
/// </summary>
/// <remarks>
/// A server or network failure fails the batch: the outbox relay sends it again after its backoff (at least once). A refusal
/// that cannot succeed later — the server answers 5xx for this recipient or message, or the message cannot be read — puts that
/// message in the dead letters (queue INVOICE, with the server's reply) and the next mail goes on; one bad address never
/// holds back the others.
/// </remarks>
internal sealed class SmtpInvoicePublisher(string destination, SmtpOptions options, DeadLetterStore? deadLetters) : IOutboundPublisher
{
    private readonly SmtpClient _client = new() { Timeout = (int)options.Timeout.TotalMilliseconds };
    private readonly MailboxAddress _from = new(options.FromName, options.From!);
    private readonly string _domain = options.From![(options.From!.IndexOf('@') + 1)..];

    public string Destination => destination;

    public ConnectionStatus Status { get; } = new($"smtp:{destination}");

    public async Task PublishBatchAsync(IReadOnlyList<OutboundEnvelope> batch, CancellationToken cancellation)
    {
        foreach (var envelope in batch)
        {
            MimeMessage mail;
            try
            {
                mail = Compose(envelope);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or ParseException or NonRetryableException)
            {
                await DeadLetterAsync(envelope, ErrorCodes.InvalidMessage, $"The invoice message cannot be read: {ex.Message}", cancellation);
                continue;
            }

            try
            {
                await ConnectAsync(cancellation);
                await _client.SendAsync(mail, cancellation);
            }
            catch (SmtpCommandException refused) when ((int)refused.StatusCode >= 500)
            {
                await DeadLetterAsync(envelope, "MAIL_REFUSED",
                    $"The mail server refused the mail to {mail.To} ({(int)refused.StatusCode} {refused.ErrorCode}): {TextExcerpt.Of(refused.Message, 256)}", cancellation);
            }
            catch (Exception ex) when (!cancellation.IsCancellationRequested)
            {
                Status.Report(ConnectionState.Reconnecting, TextExcerpt.Of(ex.Message, 256));
                if (_client.IsConnected) await _client.DisconnectAsync(true, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }
    }

    private async Task ConnectAsync(CancellationToken ct)
    {
        if (_client.IsConnected) return;
        await _client.ConnectAsync(options.Host!, options.Port, options.Security, ct);
        if (options.Username is { } user) await _client.AuthenticateAsync(user, options.Password!, ct);
        Status.Report(ConnectionState.Connected);
    }

    /// <summary>The e-mail of one outbox message: <c>{"to", "invoice"}</c> as <see cref="Actors.Messaging.Outbox.OutboundMapper"/> wrote it.</summary>
    internal MimeMessage Compose(OutboundEnvelope envelope)
    {
        using var document = JsonDocument.Parse(envelope.Body);
        var to = document.RootElement.GetProperty("to").GetString() ?? throw new InvalidOperationException("no recipient");
        if (!Actors.Invoicing.BillingFieldReader.IsMailbox(to)) throw new ArgumentException($"'{TextExcerpt.Of(to)}' is not an e-mail address");
        var invoice = document.RootElement.GetProperty("invoice").Deserialize<Invoice>(Actors.Serialization.O2XSerializer.Options)
                      ?? throw new InvalidOperationException("no invoice");
        var period = invoice.Cycle is { } cycle ? $" for {cycle.Start:yyyy-MM-dd} to {cycle.End.AddDays(-1):yyyy-MM-dd}" : $" for order {invoice.OrderId}";
        var due = invoice.Cycle?.AmountDue ?? invoice.Total;
        var text = new TextPart("plain")
        {
            Text = $"Invoice {invoice.InvoiceNumber}{period}.\n\nTotal: {invoice.Total:0.00} {invoice.Currency}\nAmount due: {due:0.00} {invoice.Currency} " +
                   $"by {invoice.DueDate:yyyy-MM-dd}\n\nThe invoice is attached as a PDF.\n",
        };
        var pdf = new MimePart("application", "pdf")
        {
            Content = new MimeContent(new MemoryStream(Actors.Invoicing.InvoicePdf.Render(invoice))),
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
            ContentTransferEncoding = ContentEncoding.Base64,
            FileName = invoice.InvoiceNumber + ".pdf",
        };
        var mail = new MimeMessage
        {
            Subject = $"Invoice {invoice.InvoiceNumber}{period}",
            MessageId = $"{envelope.MessageId}@{_domain}",
            Body = new Multipart("mixed") { text, pdf },
        };
        mail.From.Add(_from);
        mail.To.Add(MailboxAddress.Parse(to));
        mail.Headers.Add("X-O2X-Invoice-Number", invoice.InvoiceNumber);
        return mail;
    }

    private async Task DeadLetterAsync(OutboundEnvelope envelope, string code, string reason, CancellationToken ct)
    {
        if (deadLetters is null) throw new InvalidOperationException(reason);
        var now = DateTime.UtcNow;
        await deadLetters.AddAsync(new DeadLetterRecord(0, destination, envelope.MessageId, envelope.CorrelationId,
            new Dictionary<string, string>(envelope.Headers) { ["x-o2x-error-code"] = code }, envelope.Body.ToArray(), 1, now, now, code, reason,
            DeadLetterStatus.Dead, null, 0, now), null, ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync(true, CancellationToken.None).ConfigureAwait(false);
        _client.Dispose();
        Status.Report(ConnectionState.Stopped);
    }
}
