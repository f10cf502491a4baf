using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>
/// Issue "Monthly billing run" end to end on one node: orders, usage and discounts arrive as messages, a bill run is started
/// over the API, and the invoice's amounts are the ones computed by hand here.
/// </summary>
public sealed class BillRunTests() : NodeTest, IDisposable
{
    private const string Account = "ACC-7001";
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    private async Task<JsonNode> PostOk(string queue, string body)
    {
        var response = await Http.PostMessageAsync(queue, body);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return await response.ReadJson();
    }

    /// <summary>Places an order on the account and completes its provisioning at <paramref name="completedAt"/>.</summary>
    private async Task OrderAsync(string type, string correlationId, string completedAt, JsonObject? pricing)
    {
        var order = JsonNode.Parse(HttpJson.SeedSample("oms/order-new.json").Replace("ACC-1001", Account))!.AsObject();
        order["order_type"] = type;
        order["correlation_id"] = correlationId;
        order["services"]![0]!["action"] = "CHANGE";
        if (pricing is null) order["services"]![0]!.AsObject().Remove("pricing");
        else order["services"]![0]!["pricing"] = pricing;
        var orderId = (await PostOk("OMS", order.ToJsonString()))["result"]!["order_id"]!.GetValue<string>();
        var callback = JsonNode.Parse(HttpJson.SeedSample("provisioning/response-completed.json"))!.AsObject();
        callback["order_id"] = orderId;
        callback["provisioning_id"] = "PROV-" + correlationId;
        callback["completion_timestamp"] = completedAt;
        await PostOk("PROVISIONING_RESPONSE", callback.ToJsonString());
    }

    /// <summary>Mediates voice calls (start, seconds) for the account and rates them.</summary>
    private Task UsageAsync(string name, params (string Start, int Seconds)[] calls) => UsageOfAsync(Account, name, calls);

    private async Task UsageOfAsync(string account, string name, params (string Start, int Seconds)[] calls)
    {
        var path = _files.File(name + ".csv");
        File.WriteAllLines(path, calls.Select((c, i) => $"{name}-{i},+50611,+50622,{c.Start},{c.Seconds},{account},CELL-1").Prepend(CdrFiles.McmVoiceHeader));
        var mediation = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        mediation["file_location"] = path;
        await PostOk("MEDIATION", mediation.ToJsonString());
        var batch = new JsonObject
        {
            ["batch_id"] = "USAGE-" + name, ["usage_record_ids"] = new JsonArray(), ["rating_date"] = "2024-04-01",
            ["account_ids"] = new JsonArray(account), ["service_type"] = "VOICE", ["submission_timestamp"] = "2024-04-01T01:00:00Z",
        };
        (await PostOk("USAGE", batch.ToJsonString()))["result"]!["rated"]!.GetValue<string>().Should().Be(calls.Length.ToString());
    }

    private async Task<JsonNode> RunAsync(string period)
    {
        var started = await Http.SendAsync(HttpJson.Post("/api/billing/runs", $$"""{"period":"{{period}}"}"""));
        started.StatusCode.Should().Be(HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
        var url = (await started.ReadJson())["status_url"]!.GetValue<string>();
        return await Eventually.ReturnsAsync(async () => await (await Http.GetAsync(url)).ReadJson(),
            r => r["status"]!.GetValue<string>() is "COMPLETED" or "FAILED", TimeSpan.FromSeconds(60), $"bill run {url} finished");
    }

    /// <summary>The PDF's text, page by page, words joined by spaces (PdfPig reads it back).</summary>
    private static string PdfText(byte[] pdf)
    {
        using var document = UglyToad.PdfPig.PdfDocument.Open(pdf);
        return string.Join(" ", document.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));
    }

    private async Task<JsonNode> InvoiceAsync(string number) => await (await Http.GetAsync($"/api/accounts/{Account}/invoices/{number}")).ReadJson();

    private async Task<JsonArray> AccountInvoicesAsync() =>
        (await (await Http.GetAsync($"/api/accounts/{Account}")).ReadJson())["invoices"]!.AsArray();

    [Fact]
    public async Task A_month_with_an_upgrade_a_suspension_usage_in_two_bands_and_two_discounts_bills_once_and_late_usage_lands_next_month()
    {
        // 11 Feb: INTERNET_100 at 50.00 (the order charges 99.00 once and 50.00 for 11 Feb - 10 Mar: invoice 0001, 149.00).
        await Http.InvoicedAccountAsync(Account, "SF-7001");
        // 16 Mar: upgraded to 80.00; suspended on 21 Mar, resumed on 26 Mar.
        await OrderAsync("MODIFY", "SF-7002", "2024-03-16T09:00:00Z", new JsonObject { ["monthly_recurring_charge"] = 80.00m, ["currency"] = "USD" });
        await OrderAsync("SUSPEND", "SF-7003", "2024-03-21T08:00:00Z", null);
        await OrderAsync("RESUME", "SF-7004", "2024-03-26T08:00:00Z", null);
        // Discounts: 10 % from March, 5.00 USD through 2024; and the billing contact.
        await PostOk("OMS", $$$"""
            {"object_type":"ACCOUNT","action":"UPDATE","account_id":"{{{Account}}}","submission_timestamp":"2024-03-01T00:00:00Z",
             "updates":{"billing_contact":{"email":"billing@example.com","name":"Ana"},
               "discounts":[{"discount_id":"PCT-10","type":"PERCENTAGE","value":10,"effective_from":"2024-03-01"},
                            {"discount_id":"FIX-5","type":"FIXED_AMOUNT","value":5.00,"currency":"USD","effective_from":"2024-01-01","effective_to":"2024-12-31"}]}}
            """);
        // March calls: 600 + 550 minutes = 1,150: 100 included, 1,000 at 0.05 = 50.00, 50 at 0.03 = 1.50.
        await UsageAsync("march", ("2024-03-05T10:00:00Z", 600 * 60), ("2024-03-20T10:00:00Z", 550 * 60));

        var run = await RunAsync("2024-03");

        run["status"]!.GetValue<string>().Should().Be("COMPLETED");
        run["invoiced"]!.GetValue<int>().Should().Be(1);
        var invoice = await InvoiceAsync("INV-ACC-7001-202403");
        // Recurring (1-10 Mar covered by the order): 11-15 at 50: 50 × 5/31 = 8.06; 16-20 at 80: 12.90; 21-25 suspended; 26-31 at 80: 80 × 6/31 = 15.48.
        var lines = invoice["lines"]!.AsArray().Select(l => (l!["kind"]!.GetValue<string>(), l["amount"]!.GetValue<decimal>())).ToList();
        lines.Should().Equal(("RECURRING", 8.06m), ("RECURRING", 12.90m), ("RECURRING", 15.48m),
            ("USAGE", 0m), ("USAGE", 50.00m), ("USAGE", 1.50m),
            // 36.44 + 51.50 = 87.94: 10 % = 8.79; then 5.00.
            ("DISCOUNT", -8.79m), ("DISCOUNT", -5.00m));
        invoice["subtotal"]!.GetValue<decimal>().Should().Be(74.15m);
        invoice["tax"]!.GetValue<decimal>().Should().Be(0m);
        invoice["total"]!.GetValue<decimal>().Should().Be(74.15m);
        invoice["sequence"]!.GetValue<int>().Should().Be(2);
        var cycle = invoice["cycle"]!;
        // Since no earlier cycle: the order's 99.00 + 50.00 as activity; nothing paid; 149.00 + 74.15 due.
        cycle["amount_due"]!.GetValue<decimal>().Should().Be(223.15m);
        cycle["previous_balance"]!.GetValue<decimal>().Should().Be(0m);
        cycle["activity"]!.AsArray().Sum(a => a!["amount"]!.GetValue<decimal>()).Should().Be(149.00m);
        cycle["billing_email"]!.GetValue<string>().Should().Be("billing@example.com");

        // The PDF says the same, as text a reader can extract.
        var pdf = await Http.GetAsync($"/api/accounts/{Account}/invoices/INV-ACC-7001-202403/pdf");
        pdf.StatusCode.Should().Be(HttpStatusCode.OK);
        pdf.Content.Headers.ContentType!.MediaType.Should().Be("application/pdf");
        var text = PdfText(await pdf.Content.ReadAsByteArrayAsync());
        text.Should().Contain("Invoice INV-ACC-7001-202403").And.Contain("Billing period: 2024-03-01 to 2024-03-31 (2024-03)")
            .And.Contain("billing@example.com").And.Contain("Recurring charges").And.Contain("12.90 USD").And.Contain("Usage")
            .And.Contain("from unit 1,001 at 0.03").And.Contain("Discount PCT-10").And.Contain("-8.79 USD").And.Contain("74.15 USD")
            .And.Contain("Amount due").And.Contain("223.15 USD");
        (await Http.GetAsync($"/api/accounts/{Account}/invoices/INV-NOPE/pdf")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        // A rerun of the period changes nothing.
        var again = await RunAsync("2024-03");
        again["invoiced"]!.GetValue<int>().Should().Be(0);
        again["already_billed"]!.GetValue<int>().Should().Be(1);
        (await AccountInvoicesAsync()).Should().HaveCount(2);
        (await InvoiceAsync("INV-ACC-7001-202403"))["total"]!.GetValue<decimal>().Should().Be(74.15m);

        // A March call rated after the run lands on April's invoice: 10 minutes continuing March's count, at 0.03 = 0.30.
        await UsageAsync("late", ("2024-03-30T10:00:00Z", 600));
        // Calls of an account id no account has are rated (mediation takes any id) but billable by no run: the run counts them.
        await UsageOfAsync("ACC-NOBODY-7001", "nobody", ("2024-04-02T10:00:00Z", 60), ("2024-04-03T10:00:00Z", 60));
        var april = await RunAsync("2024-04");
        april["invoiced"]!.GetValue<int>().Should().Be(1);
        april["unknown_accounts"]!.GetValue<int>().Should().Be(1);
        april["unknown_usage"]!.GetValue<int>().Should().Be(2);
        var next = await InvoiceAsync("INV-ACC-7001-202404");
        // 80.00 for April + 0.30 = 80.30; 10 % = 8.03; 5.00: 67.27.
        next["lines"]!.AsArray().Select(l => l!["amount"]!.GetValue<decimal>()).Should().Equal(80.00m, 0.30m, -8.03m, -5.00m);
        next["total"]!.GetValue<decimal>().Should().Be(67.27m);
        // Payments and activity since March's invoice: none; what was due then is due still, plus April.
        next["cycle"]!["previous_balance"]!.GetValue<decimal>().Should().Be(223.15m);
        next["cycle"]!["amount_due"]!.GetValue<decimal>().Should().Be(290.42m);
        var account = await (await Http.GetAsync($"/api/accounts/{Account}")).ReadJson();
        account["balances"]![0]!["amount"]!.GetValue<decimal>().Should().Be(290.42m);
    }

    [Fact]
    public async Task Runs_show_each_accounts_result_and_bad_requests_get_a_clear_problem()
    {
        await Http.InvoicedAccountAsync("ACC-7101", "SF-7101");
        var run = await RunAsync("2024-01"); // before the account's first subscription
        run["nothing_to_bill"]!.GetValue<int>().Should().Be(1);
        var accounts = await (await Http.GetAsync($"/api/billing/runs/{run["run_id"]!.GetValue<string>()}/accounts")).ReadJson();
        accounts["items"]!.AsArray().Select(a => (a!["account_id"]!.GetValue<string>(), a["outcome"]!.GetValue<string>()))
            .Should().Equal(("ACC-7101", "NOTHING_TO_BILL"));
        (await (await Http.GetAsync("/api/billing/runs")).ReadJson())["items"]!.AsArray().Should().ContainSingle();

        foreach (var (body, detail) in new[]
                 {
                     ("""{"period":"2024-13"}""", "not a month"),
                     ("""{"period":"2999-01"}""", "has not ended"),
                     ("""{"period":"2024-02","account_id":"../etc"}""", "account_id"),
                     ("""{"account_id":"ACC-1"}""", "period"),
                     ("""[1,2]""", "JSON object"),
                 })
        {
            var refused = await Http.SendAsync(HttpJson.Post("/api/billing/runs", body));
            refused.StatusCode.Should().Be(HttpStatusCode.BadRequest, body);
            var problem = await refused.ReadJson();
            problem["error_code"]!.GetValue<string>().Should().NotBeNullOrEmpty();
            problem["detail"]!.GetValue<string>().Should().Contain(detail);
        }

        (await Http.GetAsync("/api/billing/runs/no-such-run")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Account_updates_with_bad_billing_fields_are_refused_naming_the_field()
    {
        await Http.InvoicedAccountAsync("ACC-7201", "SF-7201");
        foreach (var (updates, field) in new[]
                 {
                     ("""{"billing_contact":{"email":"not an address"}}""", "updates.billing_contact.email"),
                     ("""{"billing_contact":{"email":"a@b.com\r\nBcc: x@evil.com"}}""", "updates.billing_contact.email"),
                     ("""{"billing_cycle_day":31}""", "updates.billing_cycle_day"),
                     ("""{"discounts":[{"discount_id":"D","type":"PERCENTAGE","value":150,"effective_from":"2024-01-01"}]}""", "updates.discounts[0].value"),
                     ("""{"discounts":[{"discount_id":"D","type":"FIXED_AMOUNT","value":1.001,"currency":"USD","effective_from":"2024-01-01"}]}""", "updates.discounts[0].value"),
                     ("""{"discounts":[{"discount_id":"D","type":"PERCENTAGE","value":5,"effective_from":"2024-02-01","effective_to":"2024-01-01"}]}""", "updates.discounts[0].effective_to"),
                     ("""{"discounts":[{"discount_id":"D","type":"PERCENTAGE","value":5,"effective_from":"2024-01-01"},{"discount_id":"D","type":"PERCENTAGE","value":5,"effective_from":"2024-01-01"}]}""", "updates.discounts[1].discount_id"),
                 })
        {
            var message = $$$"""{"object_type":"ACCOUNT","action":"UPDATE","account_id":"ACC-7201","submission_timestamp":"2024-03-01T00:00:00Z","updates":{{{updates}}}}""";
            var refused = await Http.PostMessageAsync("OMS", message);
            refused.StatusCode.Should().Be(HttpStatusCode.BadRequest, updates);
            (await refused.ReadJson())["detail"]!.GetValue<string>().Should().Contain(field, updates);
        }

        await PostOk("OMS", """{"object_type":"ACCOUNT","action":"UPDATE","account_id":"ACC-7201","submission_timestamp":"2024-03-01T00:00:00Z","updates":{"billing_cycle_day":15}}""");
        (await (await Http.GetAsync("/api/accounts/ACC-7201")).ReadJson())["cycle_day"]!.GetValue<int>().Should().Be(15);
    }
}
