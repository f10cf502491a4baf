using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>A node process for the CLI tests, with its admin listener on a free loopback port.</summary>
public sealed class CliNode : IAsyncLifetime
{
    private readonly TempDirectory _workdir = new();

    public NodeProcess Node { get; private set; } = null!;

    public string AdminUrl { get; } = $"http://127.0.0.1:{NodeProcess.FreeTcpPort()}";

    public string Database => Path.Combine(_workdir.Path, "data", "o2x.db");

    /// <summary>An order placed at start and never answered: STUCK after 20 s (long enough for the other tests' orders).</summary>
    public string StuckOrderId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Node = await NodeProcess.StartAsync(_workdir.Path, new Dictionary<string, string>
        {
            ["O2X__Node__Port"] = "0",
            ["O2X__Admin__Url"] = AdminUrl,
            ["O2X__Persistence__SqlitePath"] = Database,
            ["O2X__Orders__ProvisioningTimeout"] = "00:00:20",
            ["O2X__Orders__StuckCheckInterval"] = "00:00:00.5",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        using var http = new HttpClient { BaseAddress = Node.BaseAddress };
        var placed = await http.PostMessageAsync("OMS", HttpJson.SeedSample("oms/order-new.json").Replace("ACC-1001", "ACC-CLI-STUCK")
            .Replace("SF-ORD-20240211-12345", "SF-CLI-STUCK"));
        StuckOrderId = (await placed.ReadJson())["result"]!["order_id"]!.GetValue<string>();
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        _workdir.Dispose();
    }
}

/// <summary>Issue "Cluster operations": the real <c>o2x</c> process against a running node, every palette.</summary>
public sealed class CliTests(CliNode fixture) : IClassFixture<CliNode>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private sealed record Run(int ExitCode, string Out, string Err)
    {
        public JsonNode Json => JsonNode.Parse(Out)!;
    }

    private Task<Run> O2x(params string[] args) => O2xAt(fixture.AdminUrl, null, args);

    private static Task<Run> O2xAt(string node, string? stdin, params string[] args) => O2xWith(node, stdin, null, args);

    private static async Task<Run> O2xWith(string node, string? stdin, string? tokenFromEnvironment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RepositoryLayout.CliAssembly);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.ArgumentList.Add("--node");
        info.ArgumentList.Add(node);
        info.Environment.Remove("O2X_ADMIN_TOKEN");
        if (tokenFromEnvironment is not null) info.Environment["O2X_ADMIN_TOKEN"] = tokenFromEnvironment;
        using var process = Process.Start(info)!;
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Deadline);
        return new Run(process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task Send_orders_and_accounts()
    {
        using var files = new TempDirectory();
        var sample = files.File("order.json");
        File.WriteAllText(sample, File.ReadAllText(RepositoryLayout.Sample("oms/order-new.json")).Replace("SF-ORD-20240211-12345", "SF-ORD-CLI-SEND"));

        var sent = await O2x("send", "OMS", sample, "--id", "cli-order-1");
        var again = await O2x("send", "OMS", sample, "--id", "cli-order-1", "--json");
        var piped = await O2xAt(fixture.AdminUrl, "{\"object_type\": ", "send", "OMS", "-");
        var missing = await O2x("send", "OMS", "/no/such/file.json");

        sent.ExitCode.Should().Be(0, sent.Err);
        sent.Out.Should().Contain("cli-order-1: processed");
        again.Json["status"]!.GetValue<string>().Should().Be("duplicate");
        piped.ExitCode.Should().Be(1);
        piped.Err.Should().Contain("INVALID_MESSAGE");
        missing.ExitCode.Should().Be(2);
        missing.Err.Should().Contain("Cannot read /no/such/file.json");

        var orderId = again.Json["result"]!["order_id"]!.GetValue<string>();
        var order = await O2x("orders", "show", orderId, "--json");
        // Awaiting the network: PROVISIONING, or STUCK once this node's short provisioning timeout (below) has passed.
        order.Json["status"]!.GetValue<string>().Should().BeOneOf("PROVISIONING", "STUCK");
        var account = await O2x("accounts", "show", "ACC-1001");
        account.ExitCode.Should().Be(0);
        account.Out.Should().Contain("ACC-1001");
        var unknown = await O2x("orders", "show", "ORD-NOPE");
        unknown.ExitCode.Should().Be(1);
    }

    [Fact]
    public async Task Stuck_orders_palette()
    {
        var orderId = fixture.StuckOrderId;
        var listed = await Eventually.ReturnsAsync(() => O2x("orders", "stuck", "--json"),
            r => r.ExitCode == 0 && r.Json["items"]!.AsArray().Any(i => i!["order_id"]!.GetValue<string>() == orderId), TimeSpan.FromSeconds(90),
            "the unanswered order listed as stuck");
        listed.Json["items"]!.AsArray().Single(i => i!["order_id"]!.GetValue<string>() == orderId)!["request_id"]!.GetValue<string>()
            .Should().Be("PRQ-" + orderId);
        var table = await O2x("orders", "stuck");
        table.Out.Should().Contain(orderId).And.Contain("ACC-CLI-STUCK");

        var retried = await O2x("orders", "retry-provisioning", orderId);
        var again = await O2x("orders", "retry-provisioning", orderId);
        var fail = await O2x("orders", "fail-provisioning", orderId, "--reason", "vendor gave up");
        var noReason = await O2x("orders", "fail-provisioning", orderId);

        retried.ExitCode.Should().Be(0, retried.Err);
        retried.Out.Should().Contain($"{orderId}: PROVISIONING, provisioning request PRQ-{orderId}-R1");
        again.ExitCode.Should().Be(1, "only a STUCK order is retried");
        again.Err.Should().Contain("INVALID_STATE_TRANSITION");
        fail.ExitCode.Should().Be(1, "only a STUCK order is failed by an operator");
        noReason.ExitCode.Should().Be(2, "--reason is required");
    }

    [Fact]
    public async Task Bulk_palette()
    {
        // An account with an invoice, through the node's HTTP ingestion.
        using var http = new HttpClient { BaseAddress = new Uri(fixture.AdminUrl) };
        var order = File.ReadAllText(RepositoryLayout.Sample("oms/order-new.json")).Replace("ACC-1001", "ACC-CLI-BULK").Replace("SF-ORD-20240211-12345", "SF-CLI-BULK");
        var accepted = JsonNode.Parse(await (await http.PostAsync("/api/queues/OMS/messages", new StringContent(order, Encoding.UTF8, "application/json")))
            .Content.ReadAsStringAsync())!;
        var orderId = accepted["result"]!["order_id"]!.GetValue<string>();
        var completion = File.ReadAllText(RepositoryLayout.Sample("provisioning/response-completed.json")).Replace("ORD-20240211-001", orderId);
        (await http.PostAsync("/api/queues/PROVISIONING_RESPONSE/messages", new StringContent(completion, Encoding.UTF8, "application/json")))
            .StatusCode.Should().Be(HttpStatusCode.Accepted);

        using var files = new TempDirectory();
        var items = files.File("adjustments.json");
        File.WriteAllText(items, new JsonArray(Enumerable.Range(0, 150).Select(i => (JsonNode)new JsonObject
        {
            ["account_id"] = "ACC-CLI-BULK", ["amount"] = i % 50 == 7 ? 0m : 1.00m, ["currency"] = "USD", ["reason"] = "cli " + i,
        }).ToArray()).ToJsonString());

        var submitted = await O2x("bulk", "submit", items, "--api-name", "CREATE_ADJUSTMENT", "--id", "CLI-BULK-1");
        submitted.ExitCode.Should().Be(1, "three items fail: " + submitted.Err);
        submitted.Out.Should().Contain("Job CLI-BULK-1: 150 CREATE_ADJUSTMENT items in 2 messages").And.Contain("CLI-BULK-1: 150/150 (100%) succeeded 147, failed 3");
        submitted.Out.Should().Contain("payloads[57].amount");

        var status = await O2x("bulk", "status", "CLI-BULK-1", "--json");
        (status.Json["success_count"]!.GetValue<int>(), status.Json["failure_count"]!.GetValue<int>()).Should().Be((147, 3));
        var account = JsonNode.Parse(await http.GetStringAsync("/api/accounts/ACC-CLI-BULK"))!;
        account["balances"]![0]!["amount"]!.GetValue<decimal>().Should().Be(149m + 147m);
        (await O2x("bulk", "status", "CLI-BULK-1", "--watch")).Out.Should().Contain("150/150");
        (await O2x("bulk", "list")).Out.Should().Contain("CLI-BULK-1");

        var seed = await O2x("bulk", "submit", RepositoryLayout.Sample("bulk/regenerate-invoice.json"), "--no-wait");
        seed.ExitCode.Should().Be(0, seed.Err);
        seed.Out.Should().Contain("Job BULK-2024-02-11-005: 2 REGENERATE_INVOICE items in 1 messages");
        var noApi = await O2x("bulk", "submit", items);
        noApi.ExitCode.Should().Be(2);
        noApi.Err.Should().Contain("pass --api-name");
        var unknown = await O2x("bulk", "status", "NO-SUCH-JOB");
        unknown.ExitCode.Should().Be(1);
        unknown.Err.Should().Contain("Unknown bulk job");
        var badApi = await O2x("bulk", "submit", items, "--api-name", "DELETE_EVERYTHING");
        badApi.ExitCode.Should().Be(1);
        badApi.Err.Should().Contain("UNKNOWN_API_NAME");
    }

    [Fact]
    public async Task Billing_palette()
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.AdminUrl) };
        var order = File.ReadAllText(RepositoryLayout.Sample("oms/order-new.json")).Replace("ACC-1001", "ACC-CLI-BILL").Replace("SF-ORD-20240211-12345", "SF-CLI-BILL");
        var accepted = JsonNode.Parse(await (await http.PostAsync("/api/queues/OMS/messages", new StringContent(order, Encoding.UTF8, "application/json")))
            .Content.ReadAsStringAsync())!;
        var completion = File.ReadAllText(RepositoryLayout.Sample("provisioning/response-completed.json"))
            .Replace("ORD-20240211-001", accepted["result"]!["order_id"]!.GetValue<string>()).Replace("PROV-12345", "PROV-CLI-BILL");
        (await http.PostAsync("/api/queues/PROVISIONING_RESPONSE/messages", new StringContent(completion, Encoding.UTF8, "application/json")))
            .StatusCode.Should().Be(HttpStatusCode.Accepted);

        var run = await O2x("billing", "run", "--period", "2024-03", "--account", "ACC-CLI-BILL");
        run.ExitCode.Should().Be(0, run.Err);
        run.Out.Should().Contain("COMPLETED, 1 accounts, 1 invoiced");
        var again = await O2x("billing", "run", "--period", "2024-03", "--account", "ACC-CLI-BILL", "--json");
        again.ExitCode.Should().Be(0, again.Err);
        (again.Json["invoiced"]!.GetValue<int>(), again.Json["already_billed"]!.GetValue<int>()).Should().Be((0, 1));
        var runs = await O2x("billing", "runs", "--json");
        var first = runs.Json["items"]!.AsArray().Last()!["run_id"]!.GetValue<string>();
        (await O2x("billing", "runs")).Out.Should().Contain("2024-03").And.Contain("ACC-CLI-BILL");
        // 11-31 March (the order charged 11 Feb - 10 Mar): 50 × 21/31 = 33.87.
        (await O2x("billing", "show", first)).Out.Should().Contain("INVOICED").And.Contain("INV-ACC-CLI-BILL-202403").And.Contain("33.87");

        var bad = await O2x("billing", "run", "--period", "2024-3");
        bad.ExitCode.Should().Be(1);
        bad.Err.Should().Contain("not a month");
        (await O2x("billing", "run")).ExitCode.Should().Be(2, "--period is required");
        var unknown = await O2x("billing", "show", "no-such-run");
        unknown.ExitCode.Should().Be(1);
        unknown.Err.Should().Contain("Unknown bill run");
    }

    [Fact]
    public async Task Cluster_palette()
    {
        var show = await O2x("cluster", "show", "--json");
        var self = show.Json["self"]!.GetValue<string>();
        show.Json["members"]!.AsArray().Should().ContainSingle().Which!["status"]!.GetValue<string>().Should().Be("Up");

        var status = await O2x("cluster", "status");
        status.ExitCode.Should().Be(0, status.Err);
        status.Out.Should().Contain($"{self} is Up; 1 members (1 up, 0 unreachable)");
        (await O2x("cluster", "leader")).Out.Trim().Should().Be(self);
        var table = await O2x("cluster", "show");
        table.Out.Should().Contain(self).And.Contain("entities,ingest");

        var tail = await O2x("cluster", "tail", "--duration", "2");
        tail.ExitCode.Should().Be(0, tail.Err);
        tail.Out.Should().MatchRegex($@"MemberUp\s+{System.Text.RegularExpressions.Regex.Escape(self)}  Up");

        (await O2x("cluster", "down-unreachable")).Out.Should().Contain("No unreachable members.");
        var downUnknown = await O2x("cluster", "down", "akka.tcp://o2x@127.0.0.1:1");
        downUnknown.ExitCode.Should().Be(1);
        downUnknown.Err.Should().Contain("Unknown member");
        (await O2x("cluster", "join", "not an address")).ExitCode.Should().Be(1);
        (await O2x("cluster", "down")).ExitCode.Should().Be(2, "the address is required");
    }

    [Fact]
    public async Task Sharding_queues_and_health_palettes()
    {
        using var files = new TempDirectory();
        var sample = files.File("order.json");
        File.WriteAllText(sample, File.ReadAllText(RepositoryLayout.Sample("oms/order-new.json")).Replace("SF-ORD-20240211-12345", "SF-ORD-CLI-QUEUES"));
        (await O2x("send", "OMS", sample, "--id", "cli-queues-1")).ExitCode.Should().Be(0);

        var regions = await O2x("sharding", "regions", "--json");
        regions.Json.AsArray().Select(r => r!["type"]!.GetValue<string>()).Should().Contain(["order", "account"]);
        var stats = await O2x("sharding", "stats", "-r", "order");
        stats.ExitCode.Should().Be(0);
        stats.Out.Should().Contain("order");
        (await O2x("sharding", "stats", "-r", "nope")).ExitCode.Should().Be(1);

        var queues = await O2x("queues", "list", "--json");
        var oms = queues.Json.AsArray().Single(q => q!["queue"]!.GetValue<string>() == "OMS")!;
        oms["transport"]!.GetValue<string>().Should().Be("Embedded");
        oms["counters"]!["received"]!.GetValue<long>().Should().BeGreaterThanOrEqualTo(1);
        (await O2x("queues", "list")).Out.Should().Contain("PROVISIONING_RESPONSE");
        (await O2x("queues", "stats", "OMS")).Out.Should().Contain("OmsReceiver");
        (await O2x("queues", "stats", "NOPE")).ExitCode.Should().Be(1);

        var health = await O2x("health");
        health.ExitCode.Should().Be(0, health.Out + health.Err);
        health.Out.Should().Contain("journal").And.Contain("Healthy");
    }

    [Fact]
    public async Task Dead_letter_palette()
    {
        var store = new DeadLetterStore(new O2XDatabase(new PersistenceOptions { SqlitePath = fixture.Database }));
        var order = File.ReadAllText(RepositoryLayout.Sample("oms/order-new.json")).Replace("SF-ORD-20240211-12345", "SF-ORD-CLI-DLQ");
        var requeueable = await Add(store, "cli-dead-1", order);
        var poison = await Add(store, "cli-dead-2", "{\"not\":\"an order\"}");

        var list = await O2x("dlq", "list", "--queue", "OMS", "--json");
        list.Json["items"]!.AsArray().Select(i => i!["message_id"]!.GetValue<string>()).Should().Contain(["cli-dead-1", "cli-dead-2"]);
        (await O2x("dlq", "list")).Out.Should().Contain("cli-dead-1").And.Contain("System.TimeoutException");
        var show = await O2x("dlq", "show", poison.ToString());
        show.Out.Should().Contain("{\"not\":\"an order\"}");

        var requeue = await O2x("dlq", "requeue", requeueable.ToString());
        requeue.ExitCode.Should().Be(0, requeue.Err);
        requeue.Out.Should().Contain("REQUEUED");
        (await O2x("dlq", "requeue", requeueable.ToString())).ExitCode.Should().Be(1, "a requeued letter cannot be requeued twice");

        (await O2x("dlq", "purge", poison.ToString())).ExitCode.Should().Be(2, "--reason is required");
        var purge = await O2x("dlq", "purge", poison.ToString(), "--reason", "not an order at all");
        purge.Out.Should().Contain("PURGED");
        (await O2x("dlq", "show", "999999")).ExitCode.Should().Be(1);
    }

    [Fact]
    public async Task An_unreachable_node_and_a_missing_token_get_their_own_exit_codes()
    {
        var nowhere = await O2xAt($"http://127.0.0.1:{NodeProcess.FreeTcpPort()}", null, "cluster", "show");
        nowhere.ExitCode.Should().Be(3);
        nowhere.Err.Should().Contain("Cannot reach an O2X node");
        (await O2xAt("ftp://x", null, "cluster", "show")).ExitCode.Should().Be(2);

        // Admin listener on a non-loopback address: callers need the token.
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? throw new InvalidOperationException("This test needs a non-loopback IPv4 address on the machine.");
        var token = "cli-test-token-" + Guid.NewGuid().ToString("N");
        var adminUrl = $"http://{address}:{NodeProcess.FreeTcpPort()}";
        using var workdir = new TempDirectory();
        await using var guarded = await NodeProcess.StartAsync(workdir.Path, new Dictionary<string, string>
        {
            ["O2X__Node__Port"] = "0",
            ["O2X__Admin__Url"] = adminUrl,
            ["O2X__Admin__Token"] = token,
        });

        var refused = await O2xAt(adminUrl, null, "cluster", "show");
        var wrong = await O2xAt(adminUrl, null, "cluster", "show", "--token", "not-the-token-at-all");
        var allowed = await O2xAt(adminUrl, null, "cluster", "show", "--token", token);
        var fromEnvironment = await O2xWith(adminUrl, null, token, "cluster", "status");
        var help = await O2xWith(adminUrl, null, token, "--help");

        refused.ExitCode.Should().Be(4);
        refused.Err.Should().Contain("--token");
        wrong.ExitCode.Should().Be(4);
        wrong.Err.Should().NotContain("not-the-token-at-all");
        allowed.ExitCode.Should().Be(0, allowed.Err);
        fromEnvironment.ExitCode.Should().Be(0, fromEnvironment.Err);
        help.Out.Should().Contain("--token").And.NotContain(token, "help shows no default taken from the environment");
        guarded.Output.Should().NotContain(token, "the token is never logged");
    }

    private static Task<long> Add(DeadLetterStore store, string messageId, string body) => store.AddAsync(new DeadLetterRecord(
        0, "OMS", messageId, null, new Dictionary<string, string>(), Encoding.UTF8.GetBytes(body), 8,
        DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow, "System.TimeoutException", "timed out", DeadLetterStatus.Dead, null, 0, DateTime.UtcNow), null);
}
