using System.Net;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>Issue "Monthly billing run", delivery: invoices e-mailed with their PDF to the test SMTP server (aiosmtpd) ./test.sh starts.</summary>
public sealed class InvoiceMailTests() : NodeTest(TestMailbox.NodeSettings())
{
    private static string Update(string account, string updates) =>
        $$$"""{"object_type":"ACCOUNT","action":"UPDATE","account_id":"{{{account}}}","submission_timestamp":"2024-02-01T00:00:00Z","updates":{{{updates}}}}""";

    [Fact]
    public async Task Each_invoice_arrives_once_with_its_pdf_and_a_stable_message_id()
    {
        var account = "ACC-M" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var email = $"{account.ToLowerInvariant()}@example.com";
        // The contact first, so the order's invoice is mailed too.
        var placed = await Http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json").Replace("ACC-1001", account)
            .Replace("SF-ORD-20240211-12345", "SF-" + account)));
        placed.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var orderId = (await placed.ReadJson())["result"]!["order_id"]!.GetValue<string>();
        (await Http.PostMessageAsync("OMS", Update(account, $$$"""{"billing_contact":{"email":"{{{email}}}"}}"""))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var completed = await Http.PostMessageAsync("PROVISIONING_RESPONSE",
            HttpJson.SeedSample("provisioning/response-completed.json").Replace("ORD-20240211-001", orderId).Replace("PROV-12345", "PROV-" + account));
        completed.StatusCode.Should().Be(HttpStatusCode.Accepted, await completed.Content.ReadAsStringAsync());
        var run = await Http.SendAsync(HttpJson.Post("/api/billing/runs", $$"""{"period":"2024-03","account_id":"{{account}}"}"""));
        run.StatusCode.Should().Be(HttpStatusCode.Accepted, await run.Content.ReadAsStringAsync());

        var mails = await Eventually.ReturnsAsync(() => Task.FromResult(TestMailbox.For(email)), m => m.Count >= 2, TimeSpan.FromSeconds(60),
            $"two invoices mailed to {email}");
        mails.Select(m => m.Headers["X-O2X-Invoice-Number"]).Should().BeEquivalentTo([$"INV-{account}-0001", $"INV-{account}-202403"]);
        foreach (var mail in mails)
        {
            mail.From.Mailboxes.Single().Address.Should().Be("billing@o2x.example");
            mail.MessageId.Should().StartWith("inv-account-" + account).And.EndWith("@o2x.example");
            var text = string.Join(" ", UglyToad.PdfPig.PdfDocument.Open(TestMailbox.Pdf(mail)).GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));
            text.Should().Contain("Invoice " + mail.Headers["X-O2X-Invoice-Number"]);
        }

        // March: 11 Feb - 10 Mar was charged with the order; 11-31 March: 50 × 21/31 = 33.87.
        var cycle = mails.Single(m => m.Headers["X-O2X-Invoice-Number"]!.EndsWith("202403"));
        cycle.TextBody.Should().Contain("Total: 33.87 USD").And.Contain("Amount due: 182.87 USD");
        cycle.Subject.Should().Be($"Invoice INV-{account}-202403 for 2024-03-01 to 2024-03-31");
    }

    [Fact]
    public async Task A_refused_recipient_is_dead_lettered_and_does_not_hold_back_the_next_mail()
    {
        var bad = "ACC-B" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var good = "ACC-G" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        foreach (var account in new[] { bad, good })
        {
            await Http.InvoicedAccountAsync(account, "SF-" + account);
            // The test server refuses every recipient at refused.example with 550 (scripts/o2x_smtp.py).
            var email = account.ToLowerInvariant() + (account == bad ? "@refused.example" : "@example.com");
            var updated = await Http.PostMessageAsync("OMS", Update(account, $$$"""{"billing_contact":{"email":"{{{email}}}"}}"""));
            updated.StatusCode.Should().Be(HttpStatusCode.Accepted, await updated.Content.ReadAsStringAsync());
            var run = await Http.SendAsync(HttpJson.Post("/api/billing/runs", $$"""{"period":"2024-03","account_id":"{{account}}"}"""));
            run.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await Eventually.ReturnsAsync(() => Task.FromResult(TestMailbox.For($"{good.ToLowerInvariant()}@example.com")), m => m.Count == 1,
            TimeSpan.FromSeconds(60), "the good account's invoice mailed after the refused one");
        var dead = await Eventually.ReturnsAsync(async () => await (await Http.GetAsync("/api/deadletters?queue=INVOICE")).ReadJson(),
            d => d["items"]!.AsArray().Count == 1, TimeSpan.FromSeconds(30), "the refused mail dead-lettered");
        dead["items"]![0]!["exception_type"]!.GetValue<string>().Should().Be("MAIL_REFUSED");
        dead["items"]![0]!["exception_message"]!.GetValue<string>().Should().Contain("refused");
    }
}
