using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using O2X.Host.Bindings;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>The OMS binding on Kafka fed by kcat, a producer we did not write.</summary>
public sealed class KafkaBindingKcatTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _data = new();
    private readonly KafkaMockCluster _cluster = new(brokers: 1);

    [Fact]
    public async Task Orders_produced_with_kcat_are_taken_once_each_and_bad_ones_refused()
    {
        _cluster.CreateTopic("oms-orders", partitions: 3);
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Transports:Kafka:BootstrapServers"] = _cluster.BootstrapServers,
            ["O2X:Transports:Kafka:SessionTimeout"] = "00:00:06",
            ["O2X:Bindings:OMS:Transport"] = "Kafka",
            ["O2X:Bindings:OMS:Address"] = "oms-orders",
            ["O2X:Outbox:PollInterval"] = "00:00:00.05",
            ["O2X:Admin:MetricsSampleInterval"] = "00:00:00.2",
        }, _data.File("o2x.db"));
        var http = node.CreateClient();

        // Ten orders of ten accounts (keyed by account) and a truncated one, without message ids: each record is
        // identified by its place (topic-partition@offset). Then one order twice under the same message_id header.
        var lines = Enumerable.Range(1, 10).Select(i => $"ACC-{i:0000}|{OrderMessages.Order(i, i)}")
            .Append("ACC-0001|{\"object_type\": \"ORDER\", \"account_id\": ");
        await Kcat(lines, []);
        await Kcat([$"ACC-0100|{OrderMessages.Order(100, 100)}", $"ACC-0100|{OrderMessages.Order(100, 100)}"], ["-H", "message_id=kcat-dup"]);

        var requests = await http.OutboxAtLeastAsync("PROVISIONING_REQUEST", 11, Deadline);
        var errors = await http.OutboxAtLeastAsync("OMS_ERROR", 1, Deadline);
        var counters = node.Services.GetRequiredService<BrokerBindings>().Running["OMS"].Counters;
        await Eventually.TrueAsync(() => counters.Acked == 13, Deadline, "every record is committed once settled");

        requests.Should().HaveCount(11, "eleven distinct orders, the duplicate had no effect");
        errors.Should().ContainSingle().Which["payload"]!["errorCode"]!.GetValue<string>().Should().Be("INVALID_MESSAGE");
        errors[0]["payload"]!["messageId"]!.GetValue<string>().Should().StartWith("oms-orders-", "a record without a message id is named by its place");
        counters.Duplicates.Should().Be(1);
        counters.Rejected.Should().Be(1);
        await Eventually.TrueAsync(async () => (await http.GetStringAsync("/metrics")).Contains("o2x_consumer_lag{queue=\"OMS\"} 0\n"), Deadline,
            "once everything is committed the group's lag is zero");
    }

    private async Task Kcat(IEnumerable<string> lines, string[] extra)
    {
        var kcat = Process.Start(new ProcessStartInfo("kcat", ["-P", "-b", _cluster.BootstrapServers, "-t", "oms-orders", "-K", "|", .. extra])
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
        })!;
        await kcat.StandardInput.WriteAsync(string.Join("\n", lines) + "\n");
        kcat.StandardInput.Close();
        await kcat.WaitForExitAsync().WaitAsync(Deadline);
        kcat.ExitCode.Should().Be(0, await kcat.StandardError.ReadToEndAsync());
    }

    public void Dispose()
    {
        _cluster.Dispose();
        _data.Dispose();
    }
}
