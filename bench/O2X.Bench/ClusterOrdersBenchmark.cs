using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using O2X.Testing;

namespace O2X.Bench;

/// <summary>
/// Order intake over HTTP into a cluster of node processes sharing one PostgreSQL database, the orders sent to the nodes in
/// turn: what the nodes' journal writers cost each other (each holds the outbox lock from its outbox insert to its commit
/// when the outbox is written in the journal's transaction). On one machine the nodes also share its cores, so compare runs
/// of this benchmark with each other (e.g. <c>O2X__Outbox__InJournal=false</c> in the environment), not with orders-http.
/// </summary>
internal static class ClusterOrdersBenchmark
{
    public static Command Command()
    {
        var nodes = new Option<int>("--nodes") { Description = "node processes in the cluster (1 to 5)", DefaultValueFactory = _ => 2 };
        nodes.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 5) r.AddError("--nodes must be between 1 and 5"); });
        var orders = new Option<int>("--orders") { Description = "orders in the measured run", DefaultValueFactory = _ => 20_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "requests in flight, over all nodes", DefaultValueFactory = _ => 64 };
        var warmup = new Option<int>("--warmup") { Description = "orders sent before measuring", DefaultValueFactory = _ => 20_000 };
        var command = new Command("orders-cluster", "Order intake over HTTP into several node processes on one PostgreSQL database") { nodes, orders, concurrency, warmup };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(nodes), parse.GetValue(orders), parse.GetValue(concurrency), parse.GetValue(warmup)));
        return command;
    }

    private static async Task<int> RunAsync(int count, int orders, int concurrency, int warmup)
    {
        Environment.SetEnvironmentVariable(OrdersBenchmark.InlineCompletions, "1");
        await using var store = await BenchStore.CreateAsync("postgres", "cluster");
        var ports = Enumerable.Range(0, count).Select(_ => NodeProcess.FreeTcpPort()).ToArray();
        var seed = $"akka.tcp://o2x@127.0.0.1:{ports[0]}";
        var workdirs = new List<TempDirectory>();
        var nodes = new List<NodeProcess>();
        try
        {
            foreach (var port in ports)
            {
                var workdir = new TempDirectory();
                workdirs.Add(workdir);
                var environment = store.NodeEnvironment();
                environment[OrdersBenchmark.InlineCompletions] = "0";
                environment["O2X__Node__Port"] = port.ToString();
                environment["O2X__Node__SeedNodes__0"] = seed;
                environment["Logging__LogLevel__Default"] = "Warning";
                nodes.Add(await NodeProcess.StartAsync(workdir.Path, environment, TimeSpan.FromMinutes(2)));
            }

            var clients = nodes.Select(n => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency })
            {
                BaseAddress = n.BaseAddress,
                Timeout = TimeSpan.FromMinutes(2),
            }).ToArray();
            await Eventually.TrueAsync(async () => await UpMembersAsync(clients[0]) == count, TimeSpan.FromMinutes(2), $"{count} members are Up");

            var bodies = Enumerable.Range(0, warmup + orders).Select(OrderWorkload.Body).ToArray();
            await OrdersBenchmark.SendAsync(clients, bodies[..warmup], concurrency, new Latencies());
            var latencies = new Latencies();
            var writers0 = await Task.WhenAll(clients.Select(async c => NodeMetrics.Writer.Parse(await NodeMetrics.ScrapeAsync(c))));
            var clock = Stopwatch.StartNew();
            var failures = await OrdersBenchmark.SendAsync(clients, bodies[warmup..], concurrency, latencies);
            var elapsed = clock.Elapsed;
            var writers = await Task.WhenAll(clients.Select(async (c, i) => NodeMetrics.Writer.Parse(await NodeMetrics.ScrapeAsync(c)).Since(writers0[i], elapsed)));
            var inJournal = Environment.GetEnvironmentVariable("O2X__Outbox__InJournal") is { Length: > 0 } set ? set : "default";
            Console.WriteLine($"| {count} | {inJournal} | {orders:N0} | {concurrency} | {orders / elapsed.TotalSeconds:N0} | {latencies.Percentile(50):0.0} | " +
                              $"{latencies.Percentile(99):0.0} | {string.Join("<br>", writers.Select((w, i) => $"node {i + 1}: {w}"))} |" +
                              (failures > 0 ? $" {failures} failed" : ""));
            foreach (var client in clients) client.Dispose();
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
            foreach (var workdir in workdirs) workdir.Dispose();
        }
    }

    private static async Task<int> UpMembersAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/cluster");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", NodeMetrics.AdminToken);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) return 0;
        var cluster = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return cluster["members"]!.AsArray().Count(m => m!["status"]!.GetValue<string>() == "Up" && m["reachable"]!.GetValue<bool>());
    }
}
