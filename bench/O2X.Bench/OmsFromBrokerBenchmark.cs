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
/// AMQPNetLite, Confluent.Kafka on librdkafka's mock cluster). By default the node runs in this process: CPU and peak memory
/// are the node's and the load generator's together. With <c>--node process</c> it runs as a process of its own, as in
/// <c>orders-http</c> (its progress read from its metrics), so its threads, heap and garbage collections are its own.
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
        var node = new Option<string>("--node") { Description = "in-process (the node in this process) or process (a node process of its own)", DefaultValueFactory = _ => "in-process" };
        node.AcceptOnlyFromAmong("in-process", "process");
        var command = new Command(name, $"OMS orders consumed from {transport} through the entities to the journal, beside the raw client's consume+ack")
            { store, orders, warmup, prefetch, concurrency, node };
        command.SetAction((parse, _) => parse.GetValue(node) == "process"
            ? RunWithNodeProcessAsync(transport, parse.GetValue(store)!, parse.GetValue(orders), parse.GetValue(warmup), parse.GetValue(prefetch),
                parse.GetValue(concurrency))
            : RunAsync(transport, parse.GetValue(store)!, parse.GetValue(orders), parse.GetValue(warmup), parse.GetValue(prefetch),
                parse.GetValue(concurrency)));
        return command;
    }

    private static byte[][] Bodies(int warmup, int orders) =>
        Enumerable.Range(0, warmup + orders).Select(n => Encoding.UTF8.GetBytes(OrderWorkload.Body(n))).ToArray();

    /// <summary>
    /// The baseline: the measured orders' bodies through the raw client's consume+ack loop, in messages/s, timed from the first
    /// message to the last ack (a Kafka consumer's group join is not part of the loop).
    /// </summary>
    private static async Task<double> BaselineAsync(ConnectorsBenchmark.IBenchTransport bench, byte[][] measured)
    {
        await bench.RawPublishAsync("raw", measured);
        return measured.Length / (await bench.RawConsumeAsync("raw", measured.Length)).TotalSeconds;
    }

    private static async Task<int> RunAsync(string transport, string kind, int orders, int warmup, int prefetch, int concurrency)
    {
        var bodies = Bodies(warmup, orders);
        await using var bench = ConnectorsBenchmark.Create(transport);
        var baseline = await BaselineAsync(bench, bodies[warmup..]);

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

    /// <summary>The same run with the node as a process of its own; CPU and memory are the node's, the generator's CPU is printed apart.</summary>
    private static async Task<int> RunWithNodeProcessAsync(string transport, string kind, int orders, int warmup, int prefetch, int concurrency)
    {
        var bodies = Bodies(warmup, orders);
        await using var bench = ConnectorsBenchmark.Create(transport);
        var baseline = await BaselineAsync(bench, bodies[warmup..]);

        await using var store = await BenchStore.CreateAsync(kind, "oms");
        using var workdir = new TempDirectory();
        var environment = store.NodeEnvironment();
        foreach (var (key, value) in bench.NodeSettings("OMS", "oms")) environment[key.Replace(":", "__")] = value!;
        environment["O2X__Bindings__OMS__Prefetch"] = prefetch.ToString();
        environment["O2X__Bindings__OMS__Concurrency"] = concurrency.ToString();
        environment["O2X__Node__Port"] = "0";
        environment["Logging__LogLevel__Default"] = "Warning";
        if (transport != "kafka") await bench.RawPublishAsync("oms", []); // declares the queue before the node binds it

        await using var node = await NodeProcess.StartAsync(workdir.Path, environment);
        using var http = new HttpClient { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        async Task<string> Scrape() => await NodeMetrics.ScrapeAsync(http);
        // Settled for good (acked): "failed" goes back to the broker and comes again.
        static double Settled(string metrics) =>
            NodeMetrics.Sum(metrics, @"^o2x_messages_handled_total\{queue=""OMS"",outcome=""(?:processed|duplicate|rejected|dead_lettered)""\} (\S+)$");
        static double Failed(string metrics) =>
            NodeMetrics.Sum(metrics, @"^o2x_messages_handled_total\{queue=""OMS"",outcome=""(?:rejected|dead_lettered|failed)""\} (\S+)$");
        await Eventually.TrueAsync(async () => NodeMetrics.Sum(await Scrape(), @"^o2x_broker_connection_up\{queue=""OMS""\} (\S+)$") >= 1,
            TimeSpan.FromMinutes(1), "the binding is connected");

        await bench.RawPublishAsync("oms", bodies[..warmup]);
        await Eventually.TrueAsync(async () => Settled(await Scrape()) >= warmup, TimeSpan.FromMinutes(5), "warm-up orders consumed");

        var writer0 = NodeMetrics.Writer.Parse(await Scrape());
        var resources = Resources.Of(System.Diagnostics.Process.GetProcessById(node.Id));
        var generator = Resources.OfThisProcess();
        var clock = Stopwatch.StartNew();
        await bench.RawPublishAsync("oms", bodies[warmup..], warmup);
        // Read every 50 ms (a scrape costs the node well under a millisecond): the end is known to within 50 ms of a run of seconds.
        string metrics;
        while (Settled(metrics = await Scrape()) < warmup + orders)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(30)) throw new TimeoutException("The measured orders were not consumed within 30 minutes.");
            await Task.Delay(50);
        }

        var elapsed = clock.Elapsed;
        var throughput = orders / elapsed.TotalSeconds;
        var used = resources.Stop();
        var generatorCpu = generator.Stop().CpuPercent;
        var writer = NodeMetrics.Writer.Parse(metrics).Since(writer0, elapsed);
        var failed = Failed(metrics);
        Console.Error.WriteLine($"load generator (this process): {generatorCpu:0}% of all cores");
        Console.WriteLine($"| {transport} (node process) | {kind} | {orders:N0} | {prefetch} | {concurrency} | {throughput:N0} | {Resources.Format(used)} | {baseline:N0} | " +
                          $"{throughput / baseline:0.000} | {writer} |" + (failed > 0 ? $" {failed} not processed" : ""));
        return failed > 0 ? 1 : 0;
    }
}
