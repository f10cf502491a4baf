using System.Net;
using System.Text.Json.Nodes;
using O2X.Actors.Messaging;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>
/// Issue "Monthly billing run", item 6: a provisioning request the network does not answer within
/// <c>O2X:Orders:ProvisioningTimeout</c> flags its order STUCK (list, metric); an operator retries it (a new request id) or fails
/// it; a late callback is handled by fixed rules. The node runs with a 2-second timeout checked every 200 ms.
/// </summary>
public sealed class StuckProvisioningTests() : NodeTest(new Dictionary<string, string?>
{
    ["O2X:Orders:ProvisioningTimeout"] = "00:00:02",
    ["O2X:Orders:StuckCheckInterval"] = "00:00:00.2",
    ["O2X:Admin:MetricsSampleInterval"] = "00:00:00.2",
})
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private async Task<string> PlaceAsync(string account)
    {
        var placed = await Http.PostMessageAsync("OMS", HttpJson.SeedSample("oms/order-new.json").Replace("ACC-1001", account)
            .Replace("SF-ORD-20240211-12345", "SF-" + account));
        placed.StatusCode.Should().Be(HttpStatusCode.Accepted, await placed.Content.ReadAsStringAsync());
        return (await placed.ReadJson())["result"]!["order_id"]!.GetValue<string>();
    }

    private async Task<JsonNode> OrderAsync(string orderId) => await (await Http.GetAsync("/api/orders/" + orderId)).ReadJson();

    private Task<JsonNode> StatusAsync(string orderId, string status) =>
        Eventually.ReturnsAsync(() => OrderAsync(orderId), o => o["status"]!.GetValue<string>() == status, TimeSpan.FromSeconds(30),
            $"order {orderId} {status}");

    private static string Callback(string orderId, string provisioningId) =>
        HttpJson.SeedSample("provisioning/response-completed.json").Replace("ORD-20240211-001", orderId).Replace("PROV-12345", provisioningId);

    private static string Account() => "ACC-S" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    [Fact]
    public async Task An_unanswered_order_is_flagged_stuck_listed_and_counted_then_retried_under_a_new_request_id()
    {
        var orderId = await PlaceAsync(Account());

        var stuck = await StatusAsync(orderId, "STUCK");
        var timeline = stuck["timeline"]!.AsArray();
        var requestedAt = timeline.Single(t => t!["status"]!.GetValue<string>() == "PROVISIONING")!["at"]!.GetValue<DateTimeOffset>();
        var flaggedAt = timeline[^1]!["at"]!.GetValue<DateTimeOffset>();
        (flaggedAt - requestedAt).Should().BeGreaterThanOrEqualTo(Timeout, "flagged only once the timeout has passed");
        timeline[^1]!["note"]!.GetValue<string>().Should().Be($"no answer to PRQ-{orderId} within 00:00:02");

        var list = await Eventually.ReturnsAsync(async () => await (await Http.GetAsync("/api/orders/stuck")).ReadJson(),
            l => l["items"]!.AsArray().Any(i => i!["order_id"]!.GetValue<string>() == orderId), TimeSpan.FromSeconds(30), "the order listed as stuck");
        list["items"]!.AsArray().Single(i => i!["order_id"]!.GetValue<string>() == orderId)!["request_id"]!.GetValue<string>().Should().Be("PRQ-" + orderId);
        await Eventually.TrueAsync(async () => Gauge(await Http.GetStringAsync("/metrics")) >= 1, TimeSpan.FromSeconds(30), "the stuck gauge counts it");

        var retried = await Http.PostAsync($"/api/orders/{orderId}/provisioning/retry", null);
        retried.StatusCode.Should().Be(HttpStatusCode.OK, await retried.Content.ReadAsStringAsync());
        var view = await retried.ReadJson();
        view["status"]!.GetValue<string>().Should().Be("PROVISIONING");
        view["provisioning_request_id"]!.GetValue<string>().Should().Be($"PRQ-{orderId}-R1");
        var requests = await Eventually.ReturnsAsync(() => Http.OutboxAsync("PROVISIONING_REQUEST"),
            r => r.Count(m => Payload(m).Contains($"PRQ-{orderId}-R1")) == 1, TimeSpan.FromSeconds(30), "the new request sent");
        requests.Count(m => Payload(m).Contains($"\"PRQ-{orderId}\"")).Should().Be(1, "the first request went out once");

        // Still no answer: stuck again under the new request; the network then answers late, and the order completes and is invoiced.
        await StatusAsync(orderId, "STUCK");
        var completed = await Http.PostMessageAsync("PROVISIONING_RESPONSE", Callback(orderId, "PROV-" + orderId));
        completed.StatusCode.Should().Be(HttpStatusCode.Accepted, await completed.Content.ReadAsStringAsync());
        (await OrderAsync(orderId))["status"]!.GetValue<string>().Should().Be("INVOICED");
        // Asked here, not while the order waits for its new request's answer: that wait is 2 s, and a loaded machine took longer
        // between the retry and the next call once, so the order was STUCK again and rightly retried (a clean clone, 2026-12-05).
        (await Http.PostAsync($"/api/orders/{orderId}/provisioning/retry", null)).StatusCode.Should().Be(HttpStatusCode.Conflict,
            "only a STUCK order is retried");
        await Eventually.TrueAsync(async () => (await (await Http.GetAsync("/api/orders/stuck")).ReadJson())["items"]!.AsArray()
            .All(i => i!["order_id"]!.GetValue<string>() != orderId), TimeSpan.FromSeconds(30), "the answered order leaves the stuck list");
    }

    [Fact]
    public async Task An_operator_fails_a_stuck_order_and_a_late_completion_goes_to_the_error_queue_for_reconciliation()
    {
        var orderId = await PlaceAsync(Account());
        await StatusAsync(orderId, "STUCK");

        var noReason = await Http.SendAsync(HttpJson.Post($"/api/orders/{orderId}/provisioning/fail", "{}"));
        noReason.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var control = await Http.SendAsync(HttpJson.Post($"/api/orders/{orderId}/provisioning/fail", """{"reason":"closed\u0007"}"""));
        ((await control.ReadJson())["error_code"]!.GetValue<string>()).Should().Be(ErrorCodes.InvalidField);
        var card = await Http.SendAsync(HttpJson.Post($"/api/orders/{orderId}/provisioning/fail", """{"reason":"card 4111 1111 1111 1111"}"""));
        ((await card.ReadJson())["error_code"]!.GetValue<string>()).Should().Be(ErrorCodes.CardNumberNotAllowed);

        var failed = await Http.SendAsync(HttpJson.Post($"/api/orders/{orderId}/provisioning/fail", """{"reason":"vendor ticket 4711 closed"}"""));
        failed.StatusCode.Should().Be(HttpStatusCode.OK, await failed.Content.ReadAsStringAsync());
        var order = await OrderAsync(orderId);
        order["status"]!.GetValue<string>().Should().Be("FAILED");
        order["provisioning_failure"]!["error"]!["code"]!.GetValue<string>().Should().Be(ErrorCodes.ProvisioningTimeout);
        order["provisioning_failure"]!["error"]!["message"]!.GetValue<string>().Should().EndWith(": vendor ticket 4711 closed");
        var responses = await Eventually.ReturnsAsync(() => Http.OutboxAsync("OMS_RESPONSE"),
            r => r.Any(m => Payload(m).Contains(orderId) && Payload(m).Contains("\"FAILED\"")), TimeSpan.FromSeconds(30), "the OMS told");
        Payload(responses.Single(m => Payload(m).Contains(orderId) && Payload(m).Contains("\"FAILED\""))).Should().Contain(ErrorCodes.ProvisioningTimeout);

        var late = await Http.PostMessageAsync("PROVISIONING_RESPONSE", Callback(orderId, "PROV-" + orderId));
        late.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await late.ReadJson())["error_code"]!.GetValue<string>().Should().Be(ErrorCodes.LateProvisioningCallback);
        await Eventually.ReturnsAsync(() => Http.OutboxAsync("OMS_ERROR"),
            r => r.Any(m => Payload(m).Contains(ErrorCodes.LateProvisioningCallback) && Payload(m).Contains(orderId)), TimeSpan.FromSeconds(30),
            "the late callback on the error queue, with its code, for an operator to reconcile");
        (await OrderAsync(orderId))["status"]!.GetValue<string>().Should().Be("FAILED", "the late callback changes nothing");
        var account = await (await Http.GetAsync("/api/accounts/" + order["account_id"]!.GetValue<string>())).ReadJson();
        account["invoices"]!.AsArray().Should().BeEmpty("nothing was charged for a failed order");
        account["pending_changes"]!.AsObject().Should().BeEmpty("the account abandoned the order's subscription changes");
    }

    private static string Payload(JsonNode message) => message["payload"]!.ToJsonString();

    private static double Gauge(string exposition)
    {
        var match = System.Text.RegularExpressions.Regex.Match(exposition, "^o2x_orders_provisioning_stuck (\\S+)$", System.Text.RegularExpressions.RegexOptions.Multiline);
        match.Success.Should().BeTrue("o2x_orders_provisioning_stuck is exported");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
