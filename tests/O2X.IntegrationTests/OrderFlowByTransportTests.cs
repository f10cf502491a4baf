using System.Text.Json.Nodes;
using O2X.Host.Bindings;
using O2X.Host.Testing;
using O2X.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace O2X.IntegrationTests;

/// <summary>
/// Issue "Connectors and bindings": switching the O2X queues and destinations from the embedded transport to
/// RabbitMQ (AMQP 0-9-1 or 1.0) or Kafka is configuration only, and the order flow behaves identically — the
/// same test, the same messages, each transport's own client on the outside.
/// </summary>
public sealed class OrderFlowByTransportTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly string[] Queues = ["OMS", "PROVISIONING_RESPONSE"];
    private static readonly string[] Outbound = ["OMS_RESPONSE", "OMS_ERROR", "PROVISIONING_REQUEST"];
    private readonly TempDirectory _data = new();

    [Theory]
    [InlineData("Embedded")]
    [InlineData("Amqp091")]
    [InlineData("Amqp10")]
    [InlineData("Amqp10Qpid")]
    [InlineData("Kafka")]
    [InlineData("Stomp")]
    public async Task An_order_is_taken_provisioned_billed_and_answered_and_bad_input_goes_to_the_error_destination(string transport)
    {
        await using var running = await TransportNode.StartAsync(transport, Queues, Outbound, _data.File("o2x.db"),
            new Dictionary<string, string?> { ["O2X:Outbox:PollInterval"] = "00:00:00.05" });
        var (driver, node, http) = (running.Driver, running.Node, running.Http);

        var order = HttpJson.SeedSample("oms/order-new.json");
        await driver.SendAsync("OMS", order, "oms-order-1");
        await driver.SendAsync("OMS", order, "oms-order-1"); // redelivered by the producer: one effect
        await driver.SendAsync("OMS", "{\"object_type\": \"ORDER\", \"account_id\": ", "oms-broken-1");

        var request = (await ReadUntil(driver, "PROVISIONING_REQUEST", r => r.Any(m => m.Body.Contains("ORD-20240211-001")))).Single();
        request.MessageId.Should().NotBeNullOrEmpty("the outbox message id travels with the message for consumers to deduplicate");
        (await OrderStatus(http)).Should().Be("PROVISIONING");

        await driver.SendAsync("PROVISIONING_RESPONSE", HttpJson.SeedSample("provisioning/response-completed.json"), "prov-1");
        await Eventually.TrueAsync(async () => await OrderStatus(http) == "INVOICED", Deadline, "the callback completes, bills and invoices the order");

        var responses = await ReadUntil(driver, "OMS_RESPONSE", r => r.Count >= 1);
        responses.Should().Contain(r => r.Body.Contains("ORD-20240211-001"));
        var errors = await ReadUntil(driver, "OMS_ERROR", r => r.Count >= 1);
        var error = JsonNode.Parse(errors.Single().Body)!;
        error["errorCode"]!.GetValue<string>().Should().Be("INVALID_MESSAGE");
        error["messageId"]!.GetValue<string>().Should().Be("oms-broken-1");

        // The duplicate had no effect: one provisioning request, one order for the account, in the outbox as on the wire.
        var outbox = JsonNode.Parse(await http.GetStringAsync("/api/outbox/PROVISIONING_REQUEST"))!["items"]!.AsArray();
        outbox.Should().ContainSingle();
        (await driver.ReadAsync("PROVISIONING_REQUEST")).Should().ContainSingle();
        var account = JsonNode.Parse(await http.GetStringAsync("/api/accounts/ACC-1001"))!;
        account["subscriptions"]!.AsArray().Should().ContainSingle();

        var brokers = node.Services.GetRequiredService<BrokerBindings>();
        if (transport == "Embedded")
        {
            brokers.Running.Should().BeEmpty("the embedded transport consumes over HTTP only");
        }
        else
        {
            // At least once: a consumer that loses its group membership (Kafka, a starved heartbeat on a loaded machine) gets
            // uncommitted records again. Each delivery is acknowledged; whatever comes again is a duplicate or refused again,
            // and exactly one delivery took effect.
            var counters = brokers.Running["OMS"].Counters;
            await Eventually.ReturnsAsync(() => Task.FromResult((counters.Received, counters.Acked, counters.Duplicates, counters.Rejected, counters.Released,
                counters.InFlight)), c => c.Acked >= 3, Deadline, "all three OMS deliveries are acknowledged once settled");
            counters.Released.Should().Be(0);
            counters.Duplicates.Should().BeGreaterThanOrEqualTo(1);
            counters.Rejected.Should().BeGreaterThanOrEqualTo(1);
            (counters.Acked - counters.Duplicates - counters.Rejected).Should().Be(1, "one delivery took effect");
        }
    }

    private static async Task<string?> OrderStatus(HttpClient http)
    {
        var response = await http.GetAsync("/api/orders/ORD-20240211-001");
        if (!response.IsSuccessStatusCode) return null;
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>();
    }

    private static Task<IReadOnlyList<Received>> ReadUntil(ITransportDriver driver, string destination, Func<IReadOnlyList<Received>, bool> until) =>
        Eventually.ReturnsAsync(() => driver.ReadAsync(destination), until, Deadline, $"{destination} on {driver.Name} receives what the node sent");

    public void Dispose() => _data.Dispose();
}
