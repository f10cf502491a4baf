using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using O2X.Testing;
using Xunit.Abstractions;

namespace O2X.IntegrationTests;

/// <summary>
/// Issue "Cluster operations": three O2X nodes as separate processes on loopback sharing one PostgreSQL journal.
/// Entities spread over the nodes; a node killed hard is downed by the split-brain resolver and its entities
/// come back on the survivors with their state; a node leaving gracefully hands its shards off.
/// </summary>
public sealed class ThreeNodeClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Orders = 30;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private readonly List<TempDirectory> _workdirs = [];
    private const string AdminToken = "three-node-cluster-admin-token";
    private readonly List<NodeProcess> _nodes = [];
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        foreach (var workdir in _workdirs) workdir.Dispose();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Entities_spread_survive_a_killed_node_and_move_off_a_leaving_one()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => NodeProcess.FreeTcpPort()).ToArray();
        var seed = $"akka.tcp://o2x@127.0.0.1:{ports[0]}";
        var adminUrl = $"http://127.0.0.1:{NodeProcess.FreeTcpPort()}";
        for (var i = 0; i < 3; i++) _nodes.Add(await StartNode(ports[i], seed, i == 0 ? adminUrl : ""));
        var clients = _nodes.Select(n => new HttpClient
        {
            BaseAddress = n.BaseAddress, Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken) },
        }).ToArray();
        await Eventually.TrueAsync(async () => UpMembers(await Cluster(clients[0])) == 3, Deadline, "three members are Up");

        // Orders of 30 accounts, sent to all three nodes in turn.
        for (var i = 1; i <= Orders; i++)
        {
            var response = await clients[i % 3].PostAsync("/api/queues/OMS/messages",
                new StringContent(OrderMessages.Order(i, i), System.Text.Encoding.UTF8, "application/json"));
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        }

        var orderIds = await OrderIds(clients[0]);
        orderIds.Should().HaveCount(Orders);
        // A new order is written without starting its entity; reading it starts the entity in its shard, wherever that is.
        await AllReadable(clients[1], orderIds);
        var spread = await Sharding(clients[0], "order");
        output.WriteLine("orders per node: " + string.Join(", ", spread.Select(s => $"{s.Address} {s.Entities} entities in {s.Shards} shards")));
        spread.Count(s => s.Entities > 0).Should().BeGreaterThanOrEqualTo(2, "shards are allocated over the nodes");

        // kill -9 the third node: the survivors down it (keep-majority, 2 of 3) and take its shards over.
        var victim = $"akka.tcp://o2x@127.0.0.1:{ports[2]}";
        var onVictim = spread.FirstOrDefault(s => s.Address == victim)?.Entities ?? 0;
        // An operator watches with the o2x tool meanwhile.
        using var tail = Process.Start(new ProcessStartInfo("dotnet", [RepositoryLayout.CliAssembly, "cluster", "tail", "--node", adminUrl, "--duration", "120"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
            Environment = { ["O2X_ADMIN_TOKEN"] = AdminToken },
        })!;
        var tailed = new System.Text.StringBuilder();
        tail.OutputDataReceived += (_, e) =>
        {
            lock (tailed) tailed.AppendLine(e.Data);
        };
        tail.BeginOutputReadLine();
        await Eventually.TrueAsync(() =>
        {
            lock (tailed) return tailed.ToString().Contains("MemberUp");
        }, Deadline, "the tail shows the current members");

        var clock = Stopwatch.StartNew();
        await _nodes[2].KillAsync();
        await Eventually.TrueAsync(async () =>
        {
            var cluster = await Cluster(clients[0]);
            return cluster["members"]!.AsArray().All(m => m!["address"]!.GetValue<string>() != victim);
        }, Deadline, "the killed node is downed and removed");
        var downedAfter = clock.Elapsed;
        await Eventually.TrueAsync(() =>
        {
            lock (tailed) return tailed.ToString().Contains($"UnreachableMember  {victim}") && tailed.ToString().Contains($"MemberRemoved      {victim}");
        }, Deadline, "o2x cluster tail reports the killed node unreachable, then removed");
        tail.Kill();
        await AllReadable(clients[0], orderIds);
        await AllReadable(clients[1], orderIds);
        output.WriteLine($"kill -9 of a node holding {onVictim} orders: removed after {downedAfter.TotalSeconds:0.0} s, " +
                         $"all {Orders} orders readable on both survivors after {clock.Elapsed.TotalSeconds:0.0} s");

        // The second node leaves gracefully (SIGTERM): its shards move to the first, nothing is lost.
        var leaving = $"akka.tcp://o2x@127.0.0.1:{ports[1]}";
        clock.Restart();
        (await _nodes[1].StopAsync(Deadline)).Should().Be(0, "a graceful leave exits cleanly");
        await Eventually.TrueAsync(async () => UpMembers(await Cluster(clients[0])) == 1, Deadline, "only the first node is left");
        await AllReadable(clients[0], orderIds);
        output.WriteLine($"graceful leave: exited and all orders readable on the last node after {clock.Elapsed.TotalSeconds:0.0} s");
        (await Sharding(clients[0], "order")).Should().ContainSingle().Which.Address.Should().NotBe(leaving);

        // The provisioning watchdog (a singleton) flagged each unanswered order STUCK exactly once, whichever node held its entity.
        var stuck = await Eventually.ReturnsAsync(async () => JsonNode.Parse(await clients[0].GetStringAsync("/api/orders/stuck"))!["items"]!.AsArray(),
            items => orderIds.All(id => items.Any(i => i!["order_id"]!.GetValue<string>() == id)), Deadline, "every unanswered order STUCK");
        stuck.Count.Should().Be(Orders);
        foreach (var id in orderIds)
        {
            var timeline = JsonNode.Parse(await clients[0].GetStringAsync($"/api/orders/{id}"))!["timeline"]!.AsArray();
            timeline.Count(t => t!["status"]!.GetValue<string>() == "STUCK").Should().Be(1, $"{id} is flagged once");
        }

        // New orders still go through on the remaining node.
        var last = await clients[0].PostAsync("/api/queues/OMS/messages",
            new StringContent(OrderMessages.Order(Orders + 1, Orders + 1), System.Text.Encoding.UTF8, "application/json"));
        last.StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    private async Task<NodeProcess> StartNode(int port, string seed, string adminUrl)
    {
        var workdir = new TempDirectory();
        _workdirs.Add(workdir);
        return await NodeProcess.StartAsync(workdir.Path, new Dictionary<string, string>
        {
            ["O2X__Node__Port"] = port.ToString(),
            ["O2X__Node__SeedNodes__0"] = seed,
            ["O2X__Node__DowningStableAfter"] = "00:00:05",
            // The orders' entities stay while the test moves them between nodes (the default passivates them after 5 idle seconds).
            ["O2X__Entities__OrderPassivateIdleAfter"] = "00:10:00",
            // No network answers here: every order goes STUCK after 20 s, flagged by the one watchdog the cluster runs.
            ["O2X__Orders__ProvisioningTimeout"] = "00:00:20",
            ["O2X__Orders__StuckCheckInterval"] = "00:00:01",
            ["O2X__Admin__Url"] = adminUrl,
            // A cluster trusts no local caller by default: the operator's tools carry the token.
            ["O2X__Admin__Token"] = AdminToken,
            ["O2X__Persistence__ConnectionString"] = _database.ConnectionString,
            ["Logging__LogLevel__Default"] = "Warning",
        }, Deadline);
    }

    private static async Task<JsonNode> Cluster(HttpClient http) => JsonNode.Parse(await http.GetStringAsync("/api/cluster"))!;

    private static int UpMembers(JsonNode cluster) =>
        cluster["members"]!.AsArray().Count(m => m!["status"]!.GetValue<string>() == "Up" && m["reachable"]!.GetValue<bool>());

    private sealed record NodeShards(string Address, int Shards, int Entities);

    private static async Task<IReadOnlyList<NodeShards>> Sharding(HttpClient http, string type)
    {
        var all = JsonNode.Parse(await http.GetStringAsync("/api/sharding"))!.AsArray();
        return all.First(r => r!["type"]!.GetValue<string>() == type)!["nodes"]!.AsArray()
            .Select(n => new NodeShards(n!["address"]!.GetValue<string>(), n["shards"]!.GetValue<int>(), n["entities"]!.GetValue<int>())).ToList();
    }

    /// <summary>The order ids, from the provisioning requests the outbox derived (one per order).</summary>
    private static async Task<IReadOnlyList<string>> OrderIds(HttpClient http)
    {
        var requests = await Eventually.ReturnsAsync(
            async () => JsonNode.Parse(await http.GetStringAsync("/api/outbox/PROVISIONING_REQUEST?limit=1000"))!["items"]!.AsArray(),
            items => items.Count >= Orders, Deadline, "every order has its provisioning request");
        return requests.Select(r => r!["payload"]!["order_id"]!.GetValue<string>()).Distinct().ToList();
    }

    private static Task AllReadable(HttpClient http, IReadOnlyList<string> orderIds) =>
        Eventually.TrueAsync(async () =>
        {
            foreach (var id in orderIds)
            {
                var response = await http.GetAsync($"/api/orders/{id}");
                if (response.StatusCode != HttpStatusCode.OK) return false;
                var order = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                // State recovered, not a fresh entity: still awaiting the network (STUCK once the provisioning timeout passed).
                if (order["status"]!.GetValue<string>() is not ("PROVISIONING" or "STUCK")) return false;
            }

            return true;
        }, Deadline, "every order is readable with its state");
}
