using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;

namespace O2X.Host.Tests;

/// <summary>Seed §3.3: a custom queue is a configuration entry plus a handler class (here the README's COMPLEX_PROVISIONING example).</summary>
public sealed class CustomQueueTests() : NodeTest(new Dictionary<string, string?> { ["O2X:Bindings:COMPLEX_PROVISIONING:Handler"] = "ComplexProvisioning" })
{
    private static string Progress(params (string Name, string Status)[] steps) => new JsonObject
    {
        ["order_id"] = "ORD-20240211-001",
        ["provisioning_id"] = "PRV-COMPLEX-1",
        ["vendor"] = "Nokia+Cisco",
        ["steps"] = new JsonArray(steps.Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name,
            ["status"] = s.Status,
            ["completed_at"] = s.Status == "COMPLETED" ? "2024-02-12T09:30:00Z" : null,
        }).ToArray()),
    }.ToJsonString();

    [Fact]
    public async Task Progress_messages_complete_the_order_once_every_step_is_done()
    {
        (await Http.PostMessageAsync("OMS", HttpJson.SeedSample("oms/order-new.json"))).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var pending = await Http.PostMessageAsync("COMPLEX_PROVISIONING", Progress(("fiber", "COMPLETED"), ("router", "PENDING")));
        pending.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Status()).Should().Be("PROVISIONING", "a step is still pending");

        var done = await Http.PostMessageAsync("COMPLEX_PROVISIONING", Progress(("fiber", "COMPLETED"), ("router", "COMPLETED")));
        done.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Status()).Should().Be("INVOICED");

        var invalid = await Http.PostMessageAsync("COMPLEX_PROVISIONING", Progress(("fiber", "HALF_DONE")));
        invalid.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await invalid.ReadJson())["detail"]!.GetValue<string>().Should().Contain("steps[0].status");
        var errors = await O2X.Testing.Eventually.ReturnsAsync(
            async () => JsonNode.Parse(await Http.GetStringAsync("/api/outbox/COMPLEX_PROVISIONING_ERROR"))!["items"]!.AsArray(),
            items => items.Count > 0, TimeSpan.FromSeconds(15), "refusals of a custom queue go to its own error destination");
        errors.Should().ContainSingle().Which!["payload"]!["errorCode"]!.GetValue<string>().Should().Be("INVALID_FIELD");
    }

    private async Task<string> Status() =>
        JsonNode.Parse(await Http.GetStringAsync("/api/orders/ORD-20240211-001"))!["status"]!.GetValue<string>();
}
