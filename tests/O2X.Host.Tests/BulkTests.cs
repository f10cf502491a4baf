using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;

namespace O2X.Host.Tests;

/// <summary>Issue "Usage rating and bulk operations", bulk: the BULK queue and <c>POST /api/bulk</c> (seed §4.3, §6.5).</summary>
public sealed class BulkTests : NodeTest
{
    [Fact]
    public async Task The_seed_message_fails_both_items_with_reasons_and_a_redelivery_changes_nothing()
    {
        var body = HttpJson.SeedSample("bulk/regenerate-invoice.json");

        var first = await Http.PostMessageAsync("BULK", body);
        first.StatusCode.Should().Be(HttpStatusCode.Accepted, await first.Content.ReadAsStringAsync());
        (await first.ReadJson())["result"]!["failed"]!.GetValue<string>().Should().Be("2");

        var stats = await Get("/api/bulk/BULK-2024-02-11-005");
        stats["api_name"]!.GetValue<string>().Should().Be("REGENERATE_INVOICE");
        (stats["success_count"]!.GetValue<int>(), stats["failure_count"]!.GetValue<int>()).Should().Be((0, 2));
        stats["completed_percent"]!.GetValue<decimal>().Should().Be(100m);
        stats["status"]!.GetValue<string>().Should().Be("COMPLETED");
        stats["callback_url"]!.GetValue<string>().Should().Be("https://api.embrix.com/bulk/status/BULK-2024-02-11-005");
        var items = (await Get("/api/bulk/BULK-2024-02-11-005/items?status=failed"))["items"]!.AsArray();
        items.Select(i => (i!["account_id"]!.GetValue<string>(), i["error_code"]!.GetValue<string>()))
            .Should().Equal(("ACC-1001", "ACCOUNT_NOT_FOUND"), ("ACC-1002", "ACCOUNT_NOT_FOUND"));
        items[0]!["reason"]!.GetValue<string>().Should().Be("Account ACC-1001 does not exist.");

        var again = await Http.PostMessageAsync("BULK", body);
        (await again.ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        (await Get("/api/bulk/BULK-2024-02-11-005"))["failure_count"]!.GetValue<int>().Should().Be(2);
    }

    [Theory]
    [InlineData("""{"id": "B-X", "api_name": "DELETE_EVERYTHING", "payloads": [{"account_id": "A"}]}""", "UNKNOWN_API_NAME")]
    [InlineData("""{"id": "B-X", "api_name": "CANCEL_INVOICE", "payloads": []}""", "EMPTY_PAYLOADS")]
    [InlineData("""{"id": "B-X", "api_name": "CANCEL_INVOICE", "payloads": "all of them"}""", "INVALID_FIELD")]
    [InlineData("""{"id": "B-X", "api_name": "CANCEL_INVOICE", "payloads": [{"account_id": "A"}], "total_count": "many"}""", "INVALID_FIELD")]
    public async Task A_message_that_is_no_bulk_job_is_refused_with_its_code_and_recorded_nowhere(string body, string code)
    {
        var response = await Http.PostMessageAsync("BULK", body);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.ReadJson())["error_code"]!.GetValue<string>().Should().Be(code);
        (await Http.GetAsync("/api/bulk/B-X")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_message_with_101_items_is_refused_and_the_api_splits_500_into_five()
    {
        const string account = "ACC-5001";
        await Http.InvoicedAccountAsync(account, "SF-5001");
        var items = Enumerable.Range(0, 500).Select(i => (JsonNode)new JsonObject
        {
            ["account_id"] = account, ["amount"] = i % 10 == 9 ? 0m : 0.10m, ["currency"] = "USD", ["reason"] = $"adjustment {i}",
        }).ToArray();
        var tooMany = new JsonObject { ["id"] = "JOB-101", ["api_name"] = "CREATE_ADJUSTMENT", ["payloads"] = new JsonArray(items.Take(101).Select(i => i.DeepClone()).ToArray()) };
        var refused = await Http.PostMessageAsync("BULK", tooMany.ToJsonString());
        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await refused.ReadJson())["error_code"]!.GetValue<string>().Should().Be("TOO_MANY_PAYLOADS");

        var job = new JsonObject { ["id"] = "JOB-500", ["api_name"] = "CREATE_ADJUSTMENT", ["created_by"] = "ops@example.com", ["payloads"] = new JsonArray(items) };
        var submitted = await Http.SendAsync(HttpJson.Post("/api/bulk", job.ToJsonString()));
        submitted.StatusCode.Should().Be(HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        submitted.Headers.Location!.ToString().Should().Be("/api/bulk/JOB-500");
        (await submitted.ReadJson())["messages"]!.AsArray().Select(m => m!.GetValue<string>())
            .Should().Equal("JOB-500#1", "JOB-500#2", "JOB-500#3", "JOB-500#4", "JOB-500#5");

        var stats = await Http.BulkCompletedAsync("JOB-500");
        (stats["success_count"]!.GetValue<int>(), stats["failure_count"]!.GetValue<int>(), stats["total_count"]!.GetValue<int>())
            .Should().Be((450, 50, 500));
        var failures = (await Get("/api/bulk/JOB-500/items?status=failed&limit=1000"))["items"]!.AsArray();
        failures.Select(f => f!["index"]!.GetValue<int>()).Should().Equal(Enumerable.Range(0, 50).Select(i => i * 10 + 9));
        failures.Should().OnlyContain(f => f!["error_code"]!.GetValue<string>() == "INVALID_FIELD");
        // 149.00 invoiced + 450 × 0.10.
        (await Balance(account)).Should().Be(194.00m);

        // The second message delivered again, and the whole job submitted again: nothing is applied twice.
        var second = new JsonObject
        {
            ["id"] = "JOB-500", ["api_name"] = "CREATE_ADJUSTMENT", ["total_count"] = 500, ["offset"] = 100,
            ["payloads"] = new JsonArray(items.Skip(100).Take(100).Select(i => i.DeepClone()).ToArray()),
        };
        (await (await Http.PostMessageAsync("BULK", second.ToJsonString())).ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        var resubmitted = await Http.SendAsync(HttpJson.Post("/api/bulk", job.ToJsonString()));
        (await resubmitted.ReadJson())["resubmitted"]!.GetValue<bool>().Should().BeTrue();
        var conflict = await Http.SendAsync(HttpJson.Post("/api/bulk", """{"id": "JOB-500", "api_name": "CANCEL_INVOICE", "payloads": [{"account_id": "A"}]}"""));
        conflict.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await conflict.ReadJson())["error_code"]!.GetValue<string>().Should().Be("BULK_JOB_CONFLICT");

        (await Get("/api/bulk?limit=10"))["items"]!.AsArray().Select(j => j!["job_id"]!.GetValue<string>()).Should().Contain("JOB-500");
        (await Get("/api/bulk/JOB-500"))["success_count"]!.GetValue<int>().Should().Be(450);
        (await Balance(account)).Should().Be(194.00m);
    }

    [Fact]
    public async Task Payments_notes_cancellation_and_regeneration_act_on_the_real_invoice()
    {
        const string account = "ACC-6001";
        await Http.InvoicedAccountAsync(account, "SF-6001");
        var invoice = $"INV-{account}-0001";

        await RunJobAsync("PAY-JOB", "ALLOCATE_PAYMENT", $$"""
            [{"account_id": "{{account}}", "payment_id": "PAY-1", "amount": 100.00, "currency": "USD", "invoice_id": "{{invoice}}"},
             {"account_id": "{{account}}", "payment_id": "PAY-2", "amount": 60.00, "currency": "USD", "invoice_id": "{{invoice}}"},
             {"payment_id": "PAY-3", "amount": 10.00, "currency": "USD", "invoice_id": "{{invoice}}"},
             {"account_id": "ACC-NOBODY", "payment_id": "PAY-4", "amount": 1.00, "currency": "USD"}]
            """, expectSucceeded: 2, "AMOUNT_EXCEEDS_OUTSTANDING", "ACCOUNT_NOT_FOUND");
        await RunJobAsync("CN-JOB", "CREATE_CREDIT_NOTE", $$"""[{"account_id": "{{account}}", "invoice_id": "{{invoice}}", "amount": 39.00, "reason": "goodwill"}]""", 1);
        await RunJobAsync("CANCEL-JOB", "CANCEL_INVOICE", $$"""[{"account_id": "{{account}}", "invoice_id": "{{invoice}}", "reason": "wrong"}]""", 0,
            "INVALID_STATE_TRANSITION");
        await RunJobAsync("REGEN-JOB", "REGENERATE_INVOICE", $$"""
            [{"invoice_id": "{{invoice}}", "account_id": "{{account}}", "reason": "Tax calculation correction", "regenerate_pdf": true, "send_notification": false}]
            """, 1);

        var view = await Get($"/api/accounts/{account}");
        view["balances"]![0]!["amount"]!.GetValue<decimal>().Should().Be(0m); // 149 - 100 - 10 - 39
        var summary = view["invoices"]![0]!;
        (summary["revision"]!.GetValue<int>(), summary["outstanding"]!.GetValue<decimal>(), summary["status"]!.GetValue<string>()).Should().Be((1, 0m, "ISSUED"));
        view["ledger"]!.AsArray().Select(e => (e!["entry_id"]!.GetValue<string>(), e["kind"]!.GetValue<string>(), e["amount"]!.GetValue<decimal>()))
            .Should().Equal(("PAY-1", "PAYMENT", -100m), ("PAY-3", "PAYMENT", -10m), ($"CN-{account}-0001", "CREDIT_NOTE", -39m));
        view["invoice_history"]!.AsArray().Select(a => a!["action"]!.GetValue<string>()).Should().Equal("REGENERATED");
    }

    private async Task RunJobAsync(string id, string api, string payloads, int expectSucceeded, params string[] failureCodes)
    {
        var response = await Http.SendAsync(HttpJson.Post("/api/bulk", $$"""{"id": "{{id}}", "api_name": "{{api}}", "payloads": {{payloads}}}"""));
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var stats = await Http.BulkCompletedAsync(id);
        stats["success_count"]!.GetValue<int>().Should().Be(expectSucceeded);
        var failed = (await Get($"/api/bulk/{id}/items?status=failed"))["items"]!.AsArray();
        failed.Select(f => f!["error_code"]!.GetValue<string>()).Should().Equal(failureCodes, string.Join("; ", failed.Select(f => f!["reason"])));
    }

    private async Task<decimal> Balance(string account) => (await Get($"/api/accounts/{account}"))["balances"]![0]!["amount"]!.GetValue<decimal>();

    private async Task<JsonNode> Get(string url)
    {
        var response = await Http.GetAsync(url);
        response.StatusCode.Should().Be(HttpStatusCode.OK, url);
        return await response.ReadJson();
    }
}
