using System.CommandLine;
using System.Diagnostics;
using System.Net;
using O2X.Testing;

namespace O2X.Bench;

/// <summary>
/// Orders/s through HTTP ingestion → entities → journal (a real node process, seed §6.1 orders), with
/// p50/p95/p99 latency of the 202 and the node process's CPU and peak memory, beside raw batched INSERTs of the same
/// event bytes into the same database.
/// </summary>
internal static class OrdersBenchmark
{
    public static Command Command()
    {
        var store = new Option<string>("--store") { Description = "sqlite or postgres", DefaultValueFactory = _ => "sqlite" };
        store.AcceptOnlyFromAmong("sqlite", "postgres");
        var orders = new Option<int>("--orders") { Description = "orders in the measured run", DefaultValueFactory = _ => 10_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "requests in flight", DefaultValueFactory = _ => 64 };
        var warmup = new Option<int>("--warmup") { Description = "orders sent before measuring", DefaultValueFactory = _ => 1_000 };
        var stride = new Option<int>("--account-stride")
        {
            Description = "orders between two orders of one account (1: an account's three orders back to back)",
            DefaultValueFactory = _ => OrderWorkload.DefaultAccountStride,
        };
        stride.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--account-stride must be at least 1"); });
        var target = new Option<string?>("--target") { Description = "an already running node to load instead of starting one (for profiling)" };
        var command = new Command("orders-http", "Order intake over HTTP: throughput and latency, and the raw-INSERT baseline") { store, orders, concurrency, warmup, stride, target };
        command.Aliases.Add("orders");
        command.SetAction((parse, ct) =>
        {
            OrderWorkload.AccountStride = parse.GetValue(stride);
            return RunAsync(parse.GetValue(store)!, parse.GetValue(orders), parse.GetValue(concurrency), parse.GetValue(warmup), parse.GetValue(target) is { } url ? new Uri(url) : null);
        });
        return command;
    }

    private static async Task<int> RunAsync(string kind, int orders, int concurrency, int warmup, Uri? target)
    {
        // The load generator shares the node's cores, so it should cost as little as it can: socket completions run on the
        // socket engine's thread instead of being handed to the thread pool (read by .NET when this process first uses a
        // socket, which is below). That halved its CPU per order (~90 → ~45 µs). The node keeps the runtime's default.
        Environment.SetEnvironmentVariable(InlineCompletions, "1");
        var total = warmup + orders;
        var rows = OrderWorkload.JournalRows(orders);
        JournalBaseline.Result baseline;
        await using (var baselineStore = await BenchStore.CreateAsync(kind, "baseline"))
            baseline = await JournalBaseline.RunAsync(baselineStore, rows);
        var rowsPerOrder = (double)rows.Count / orders;
        var baselineOrders = baseline.RowsPerSecond / rowsPerOrder;
        Console.Error.WriteLine($"baseline: {rows.Count} rows + {baseline.TagRows} tag rows in {baseline.Elapsed.TotalSeconds:0.00} s");

        await using var store = await BenchStore.CreateAsync(kind, "o2x");
        using var workdir = new TempDirectory();
        var environment = store.NodeEnvironment();
        environment[InlineCompletions] = "0";
        environment["O2X__Node__Port"] = "0";
        environment["Logging__LogLevel__Default"] = "Warning";
        await using var node = target is null ? await NodeProcess.StartAsync(workdir.Path, environment) : null;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency })
        {
            BaseAddress = target ?? node!.BaseAddress,
            Timeout = TimeSpan.FromMinutes(2),
        };

        var bodies = Enumerable.Range(0, total).Select(OrderWorkload.Body).ToArray();
        await SendAsync([http], bodies[..warmup], concurrency, new Latencies());
        var latencies = new Latencies();
        var resources = node is null ? null : Resources.Of(System.Diagnostics.Process.GetProcessById(node.Id));
        var generator = Resources.OfThisProcess();
        var machine = MachineCpu.Start();
        var writer0 = node is not null || NodeMetrics.TokenGiven ? NodeMetrics.Writer.Parse(await NodeMetrics.ScrapeAsync(http)) : null;
        var clock = Stopwatch.StartNew();
        var failures = await SendAsync([http], bodies[warmup..], concurrency, latencies);
        var elapsed = clock.Elapsed;
        var writer = writer0 is null ? "—" : NodeMetrics.Writer.Parse(await NodeMetrics.ScrapeAsync(http)).Since(writer0, elapsed);
        var generatorCpu = generator.Stop().CpuPercent;
        var cores = MachineCpu.Format(generatorCpu, machine.Stop(), postgres: !store.IsSqlite);
        Console.Error.WriteLine($"load generator (this process): {generatorCpu / 100 * Environment.ProcessorCount * elapsed.TotalMicroseconds / orders:N0} µs CPU " +
                                $"per order, {generatorCpu:0}% of all cores");
        var throughput = orders / elapsed.TotalSeconds;
        var used = resources?.Stop();
        var outbox = target is null ? await OutboxCatchUpAsync(store) : null;

        Console.WriteLine($"| {kind}{WorkloadLabel()} | {orders:N0} | {concurrency} | {throughput:N0} | {latencies.Percentile(50):0.0} | {latencies.Percentile(95):0.0} | " +
                          $"{latencies.Percentile(99):0.0} | {(used is { } u ? Resources.Format(u) : "— | —")} | {cores} | " +
                          $"{baseline.RowsPerSecond:N0} rows/s = {baselineOrders:N0} orders/s ({rowsPerOrder:0.00} rows/order) | {throughput / baselineOrders:0.000} | {outbox ?? "—"} | {writer} |" +
                          (failures > 0 ? $" {failures} failed" : ""));
        return failures == 0 ? 0 : 1;
    }

    internal const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Names a workload other than the default in the table's store column.</summary>
    private static string WorkloadLabel() => OrderWorkload.AccountStride switch
    {
        1 => ", an account's orders back to back",
        OrderWorkload.DefaultAccountStride => "",
        var stride => $", account stride {stride}",
    };

    /// <summary>
    /// The outbox's lag when the last order was accepted (events waiting for the projection) and how long the node then took to catch up:
    /// the work the intake figure leaves for later. Polled every 100 ms, for at most 5 minutes.
    /// </summary>
    private static async Task<string> OutboxCatchUpAsync(BenchStore store)
    {
        var clock = Stopwatch.StartNew();
        var lag = await store.OutboxLagAsync();
        var left = lag;
        while (left > 0 && clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(100);
            left = await store.OutboxLagAsync();
        }

        return left > 0 ? $"{lag:N0} behind, {left:N0} after 5 min" : $"{lag:N0} behind, {clock.Elapsed.TotalSeconds:0.0} s";
    }

    /// <summary>Posts <paramref name="bodies"/> with <paramref name="concurrency"/> in flight, to the nodes of <paramref name="nodes"/> in turn; returns how many were not accepted.</summary>
    internal static async Task<int> SendAsync(IReadOnlyList<HttpClient> nodes, string[] bodies, int concurrency, Latencies latencies)
    {
        var failures = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, bodies.Length), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
        {
            var started = Stopwatch.GetTimestamp();
            using var content = new StringContent(bodies[i], System.Text.Encoding.UTF8, "application/json");
            using var response = await nodes[i % nodes.Count].PostAsync("api/queues/OMS/messages", content, ct);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (response.StatusCode != HttpStatusCode.Accepted) Interlocked.Increment(ref failures);
        });
        return failures;
    }
}
