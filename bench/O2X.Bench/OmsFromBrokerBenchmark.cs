using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using O2X.Host.Bindings;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Bench;

/// <summary>
/// The full OMS path from a broker — consume → OmsReceiver → Account and Order entities → journal → ack — in orders/s,
/// beside the raw client's consume+ack loop of the same messages on the same broker in the same run (RabbitMQ.Client,
/// AMQPNetLite, Confluent.Kafka on librdkafka's mock cluster). The node runs in this process: CPU and peak memory are
/// the node's and the load generator's together.
/// </summary>
internal static class OmsFromBrokerBenchmark
{
    public static Command Command(string name, string transport)
    {
        var store = new Option<string>("--store") { Description = "sqlite or postgres", DefaultValueFactory = _ => "sqlite" };
        store.AcceptOnlyFromAmong("sqlite", "postgres");
        var orders = new Option<int>("--orders") { Description = "orders in the measured run", DefaultValueFactory = _ => 10_000 };
        var warmup = new Option<int>("--warmup") { Description = "orders consumed before measuring", DefaultValueFactory = _ => 1_000 };
        var prefetch = new Option<int>("--prefetch") { Description = "binding prefetch / credit", DefaultValueFactory = _ => 256 };
        var concurrency = new Option<int>("--concurrency") { Description = "binding concurrency", DefaultValueFactory = _ => 64 };
        var command = new Command(name, $"OMS orders consumed from {transport} through the entities to the journal, beside the raw client's consume+ack")
            { store, orders, warmup, prefetch, concurrency };
        command.SetAction((parse, _) => RunAsync(transport, parse.GetValue(store)!, parse.GetValue(orders), parse.GetValue(warmup), parse.GetValue(prefetch),
            parse.GetValue(concurrency)));
        return command;
    }

    private static async Task<int> RunAsync(string transport, string kind, int orders, int warmup, int prefetch, int concurrency)
    {
        var bodies = Enumerable.Range(0, warmup + orders).Select(n => Encoding.UTF8.GetBytes(OrderWorkload.Body(n))).ToArray();
        await using var bench = ConnectorsBenchmark.Create(transport);

        // Baseline: the same order bodies through the raw client's consume+ack loop.
        await bench.RawPublishAsync("raw", bodies[warmup..]);
        // Timed from the first message to the last ack (a Kafka consumer's group join is not part of the loop).
        var baseline = orders / (await bench.RawConsumeAsync("raw", orders)).TotalSeconds;

        await using var store = await BenchStore.CreateAsync(kind, "oms");
        var settings = store.NodeEnvironment().ToDictionary(e => e.Key.Replace("__", ":"), e => (string?)e.Value);
        foreach (var (key, value) in bench.NodeSettings("OMS", "oms")) settings[key] = value;
        settings["O2X:Bindings:OMS:Prefetch"] = prefetch.ToString();
        settings["O2X:Bindings:OMS:Concurrency"] = concurrency.ToString();
        settings["Logging:LogLevel:Default"] = "Warning";
        if (transport != "kafka") await bench.RawPublishAsync("oms", []); // declares the queue before the node binds it

        await using var node = new O2XNodeFactory(settings, settings.GetValueOrDefault("O2X:Persistence:SqlitePath"));
        node.CreateClient().Dispose();
        var binding = node.Services.GetRequiredService<BrokerBindings>().Running["OMS"];
        var counters = binding.Counters;
        await Eventually.TrueAsync(() => binding.Control.Status.State == O2X.Streams.Connectors.ConnectionState.Connected, TimeSpan.FromMinutes(1),
            "the binding is connected");

        await bench.RawPublishAsync("oms", bodies[..warmup]);
        await Eventually.TrueAsync(() => counters.Acked >= warmup, TimeSpan.FromMinutes(5), "warm-up orders consumed");

        using var http = node.CreateClient();
        var writer0 = NodeMetrics.Writer.Parse(await NodeMetrics.ScrapeAsync(http));
        var resources = Resources.OfThisProcess();
        var clock = Stopwatch.StartNew();
        await bench.RawPublishAsync("oms", bodies[warmup..], warmup);
        await Eventually.TrueAsync(() => counters.Acked >= warmup + orders, TimeSpan.FromMinutes(30), "measured orders consumed");
        var elapsed = clock.Elapsed;
        var throughput = orders / elapsed.TotalSeconds;
        var used = resources.Stop();
        var writer = NodeMetrics.Writer.Parse(await NodeMetrics.ScrapeAsync(http)).Since(writer0, elapsed);
        var failed = counters.Rejected + counters.Released + counters.DeadLettered;

        Console.WriteLine($"| {transport} | {kind} | {orders:N0} | {prefetch} | {concurrency} | {throughput:N0} | {Resources.Format(used)} | {baseline:N0} | " +
                          $"{throughput / baseline:0.000} | {writer} |" + (failed > 0 ? $" {failed} not processed" : ""));
        return failed > 0 ? 1 : 0;
    }
}
