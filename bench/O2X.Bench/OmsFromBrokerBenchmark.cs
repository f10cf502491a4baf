using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using O2X.Host.Ingestion;
using O2X.Host.Testing;
using O2X.Testing;
using RabbitMQ.Client;

namespace O2X.Bench;

/// <summary>
/// The full OMS path from RabbitMQ — consume → OmsReceiver → Account and Order entities → journal → ack — in
/// orders/s, beside the raw RabbitMQ.Client consume+ack loop of the same messages on the same broker in the same run.
/// </summary>
internal static class OmsFromBrokerBenchmark
{
    public static Command Command()
    {
        var store = new Option<string>("--store") { Description = "sqlite or postgres", DefaultValueFactory = _ => "sqlite" };
        store.AcceptOnlyFromAmong("sqlite", "postgres");
        var orders = new Option<int>("--orders") { Description = "orders in the measured run", DefaultValueFactory = _ => 10_000 };
        var warmup = new Option<int>("--warmup") { Description = "orders consumed before measuring", DefaultValueFactory = _ => 1_000 };
        var prefetch = new Option<int>("--prefetch") { Description = "binding prefetch", DefaultValueFactory = _ => 256 };
        var concurrency = new Option<int>("--concurrency") { Description = "binding concurrency", DefaultValueFactory = _ => 64 };
        var command = new Command("oms-rabbitmq", "OMS orders consumed from RabbitMQ through the entities to the journal, beside raw consume+ack")
            { store, orders, warmup, prefetch, concurrency };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(store)!, parse.GetValue(orders), parse.GetValue(warmup), parse.GetValue(prefetch), parse.GetValue(concurrency)));
        return command;
    }

    private static async Task<int> RunAsync(string kind, int orders, int warmup, int prefetch, int concurrency)
    {
        var bodies = Enumerable.Range(0, warmup + orders).Select(n => Encoding.UTF8.GetBytes(OrderWorkload.Body(n))).ToArray();
        var prefix = "bench-oms-" + Guid.NewGuid().ToString("N")[..6];
        await using var connection = await new ConnectionFactory { Uri = TestServices.RabbitMqUri }.CreateConnectionAsync();

        // Baseline: the same order bodies through a raw consume+ack loop (same prefetch, quorum queue like the binding's).
        var baselineQueue = prefix + "-raw";
        await DeclareAsync(connection, baselineQueue);
        await PublishAsync(connection, baselineQueue, bodies[warmup..], 0);
        var clock = Stopwatch.StartNew();
        await RawRabbitMq.ConsumeAsync(connection, baselineQueue, orders, (ushort)prefetch);
        var baseline = orders / clock.Elapsed.TotalSeconds;

        await using var store = await BenchStore.CreateAsync(kind, "oms");
        using var workdir = new TempDirectory();
        var settings = store.NodeEnvironment().ToDictionary(e => e.Key.Replace("__", ":"), e => (string?)e.Value);
        settings["O2X:Transports:RabbitMq:Uri"] = TestServices.RabbitMqUri.ToString();
        settings["O2X:Bindings:OMS:Transport"] = "Amqp091";
        settings["O2X:Bindings:OMS:Address"] = prefix;
        settings["O2X:Bindings:OMS:Prefetch"] = prefetch.ToString();
        settings["O2X:Bindings:OMS:Concurrency"] = concurrency.ToString();
        settings["Logging:LogLevel:Default"] = "Warning";
        await DeclareAsync(connection, prefix);
        try
        {
            return await MeasureAsync(connection, prefix, settings, bodies, kind, orders, warmup, prefetch, concurrency, baseline);
        }
        finally
        {
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(baselineQueue);
            await channel.QueueDeleteAsync(prefix);
        }
    }

    private static async Task<int> MeasureAsync(IConnection connection, string prefix, Dictionary<string, string?> settings, byte[][] bodies,
        string kind, int orders, int warmup, int prefetch, int concurrency, double baseline)
    {
        await using var node = new O2XNodeFactory(settings, settings.GetValueOrDefault("O2X:Persistence:SqlitePath"));
        node.CreateClient().Dispose();
        var binding = node.Services.GetRequiredService<BrokerBindings>().Running["OMS"];
        var counters = binding.Counters;
        await Eventually.TrueAsync(() => binding.Control.Status.State == O2X.Streams.Connectors.ConnectionState.Connected, TimeSpan.FromMinutes(1),
            "the binding is connected");

        await PublishAsync(connection, prefix, bodies[..warmup], 0);
        await Eventually.TrueAsync(() => counters.Acked >= warmup, TimeSpan.FromMinutes(5), "warm-up orders consumed");

        var clock = Stopwatch.StartNew();
        await PublishAsync(connection, prefix, bodies[warmup..], warmup);
        await Eventually.TrueAsync(() => counters.Acked >= warmup + orders, TimeSpan.FromMinutes(30), "measured orders consumed");
        var throughput = orders / clock.Elapsed.TotalSeconds;
        var failed = counters.Rejected + counters.Released + counters.DeadLettered;

        Console.WriteLine($"| {kind} | {orders:N0} | {prefetch} | {concurrency} | {throughput:N0} | {baseline:N0} | {throughput / baseline:0.000} |" + (failed > 0 ? $" {failed} not processed" : ""));
        return failed > 0 ? 1 : 0;
    }

    private static async Task DeclareAsync(IConnection connection, string queue)
    {
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, true, false, false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
    }

    private static async Task PublishAsync(IConnection connection, string queue, byte[][] bodies, int firstId)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        var window = new Queue<Task>();
        for (var i = 0; i < bodies.Length; i++)
        {
            var properties = new BasicProperties { Persistent = true, ContentType = "application/json", MessageId = "bench-" + (firstId + i) };
            window.Enqueue(channel.BasicPublishAsync("", queue, false, properties, bodies[i]).AsTask());
            if (window.Count >= 256) await window.Dequeue();
        }

        await Task.WhenAll(window);
    }
}
