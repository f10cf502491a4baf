using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;

namespace O2X.Host.Tests;

/// <summary>
/// Issue "Monthly billing run", item 6 (seed 002, saga compensation): an order cancelled, or failed by the network, after its
/// charges were posted gets a credit note for them and its subscriptions end — once, whatever is redelivered.
/// </summary>
public sealed class OrderCompensationTests : NodeTest
{
    private static string Account() => "ACC-C" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    private async Task<JsonNode> GetAsync(string path) => await (await Http.GetAsync(path)).ReadJson();

    private static void ShouldBeCredited(JsonNode account, string orderId)
    {
        var credit = account["ledger"]!.AsArray().Single(e => e!["entry_id"]!.GetValue<string>() == "CN-" + orderId)!;
        credit["kind"]!.GetValue<string>().Should().Be("CREDIT_NOTE");
        credit["amount"]!.GetValue<decimal>().Should().Be(-149m, "the order's one-time 99.00 and first month 50.00");
        credit["invoice_number"]!.GetValue<string>().Should().Be($"INV-{account["account_id"]!.GetValue<string>()}-0001");
        account["balances"]!.AsArray().Single()!["amount"]!.GetValue<decimal>().Should().Be(0m);
        account["invoices"]!.AsArray().Single()!["outstanding"]!.GetValue<decimal>().Should().Be(0m);
        account["subscriptions"]!.AsArray().Should().OnlyContain(s => s!["status"]!.GetValue<string>() == "REMOVED");
        account["ledger"]!.AsArray().Count(e => e!["kind"]!.GetValue<string>() == "CREDIT_NOTE").Should().Be(1, "credited once");
    }

    [Fact]
    public async Task An_invoiced_order_cancelled_by_the_oms_is_credited_in_full_and_a_redelivered_callback_changes_nothing()
    {
        var account = Account();
        var orderId = await Http.InvoicedAccountAsync(account, "SF-" + account);
        var cancel = JsonNode.Parse(HttpJson.SeedSample("oms/order-new.json").Replace("ACC-1001", account))!.AsObject();
        cancel["order_type"] = "CANCEL";
        cancel["order_id"] = orderId;
        cancel["correlation_id"] = "SF-CANCEL-" + account;
        cancel["services"] = new JsonArray();

        var cancelled = await Http.PostMessageAsync("OMS", cancel.ToJsonString());
        cancelled.StatusCode.Should().Be(HttpStatusCode.Accepted, await cancelled.Content.ReadAsStringAsync());
        var callbackAgain = await Http.PostMessageAsync("PROVISIONING_RESPONSE",
            HttpJson.SeedSample("provisioning/response-completed.json").Replace("ORD-20240211-001", orderId), idempotencyKey: "resent-" + orderId);

        callbackAgain.StatusCode.Should().Be(HttpStatusCode.Accepted, await callbackAgain.Content.ReadAsStringAsync());
        (await callbackAgain.ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        var order = await GetAsync("/api/orders/" + orderId);
        order["status"]!.GetValue<string>().Should().Be("CANCELLED");
        ShouldBeCredited(await GetAsync("/api/accounts/" + account), orderId);
    }

    [Fact]
    public async Task A_completed_order_the_network_reports_failed_afterwards_is_failed_and_credited()
    {
        var account = Account();
        var orderId = await Http.InvoicedAccountAsync(account, "SF-" + account);
        var failure = JsonNode.Parse(HttpJson.SeedSample("provisioning/response-failed.json"))!.AsObject();
        failure["order_id"] = orderId;
        failure["provisioning_id"] = "PROV-12345"; // the provisioning that reported COMPLETED

        var failed = await Http.PostMessageAsync("PROVISIONING_RESPONSE", failure.ToJsonString());

        failed.StatusCode.Should().Be(HttpStatusCode.Accepted, await failed.Content.ReadAsStringAsync());
        var order = await GetAsync("/api/orders/" + orderId);
        order["status"]!.GetValue<string>().Should().Be("FAILED");
        ShouldBeCredited(await GetAsync("/api/accounts/" + account), orderId);
    }
}
