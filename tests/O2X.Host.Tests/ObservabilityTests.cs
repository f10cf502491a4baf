using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>Issue "Cluster operations": health endpoints and Prometheus metrics.</summary>
public sealed class ObservabilityTests() : NodeTest
{
    [Fact]
    public void A_check_that_stays_unhealthy_is_logged_once_when_it_turns_and_once_when_it_recovers()
    {
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var transitions = new Observability.O2XHealthChecks.HealthTransitions(factory.CreateLogger<Observability.O2XHealthChecks.HealthTransitions>());
        HealthReport Report(HealthStatus status) => new(new Dictionary<string, HealthReportEntry>
        {
            ["circuit-breakers"] = new(status, status == HealthStatus.Healthy ? "closed" : "open: OMS", TimeSpan.Zero, null, null),
        }, TimeSpan.Zero);

        for (var poll = 0; poll < 5; poll++) transitions.Observe(Report(HealthStatus.Unhealthy));
        for (var poll = 0; poll < 5; poll++) transitions.Observe(Report(HealthStatus.Healthy));

        logs.Lines.Select(l => (l.Level, l.Text)).Should().Equal(
            (LogLevel.Warning, "Health check circuit-breakers is Unhealthy: open: OMS"),
            (LogLevel.Information, "Health check circuit-breakers is healthy again (was Unhealthy)"));
    }

    [Fact]
    public async Task Liveness_and_readiness_name_each_check()
    {
        var live = await Http.GetAsync("/health/live");
        live.StatusCode.Should().Be(HttpStatusCode.OK);
        var liveBody = JsonNode.Parse(await live.Content.ReadAsStringAsync())!;
        liveBody["status"]!.GetValue<string>().Should().Be("Healthy");
        liveBody["checks"]!.AsArray().Should().NotBeEmpty();

        var ready = await Eventually.ReturnsAsync(async () => JsonNode.Parse(await Http.GetStringAsync("/health/ready"))!,
            r => r["status"]!.GetValue<string>() == "Healthy", TimeSpan.FromSeconds(30), "the node becomes ready once it is Up");
        var names = ready["checks"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToList();
        names.Should().Contain(["journal", "shard-regions", "broker-connections", "circuit-breakers"]);
        names.Should().HaveCountGreaterThan(4, "Akka.Hosting's cluster readiness check is part of it");
        ready["checks"]!.AsArray().First(c => c!["name"]!.GetValue<string>() == "journal")!["description"]!.GetValue<string>()
            .Should().Be("Sqlite answers");
    }

    [Fact]
    public async Task Message_counters_match_what_was_sent()
    {
        var order = HttpJson.SeedSample("oms/order-new.json");
        for (var i = 1; i <= 5; i++)
            (await Http.PostMessageAsync("OMS", order.Replace("SF-ORD-20240211-12345", $"SF-ORD-M-{i}"), $"m-{i}")).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Http.PostMessageAsync("OMS", order.Replace("SF-ORD-20240211-12345", "SF-ORD-M-1"), "m-1")).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Http.PostMessageAsync("OMS", "{\"object_type\": ", "m-bad")).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var metrics = await Http.GetStringAsync("/metrics");

        Value(metrics, "o2x_messages_received_total", "queue=\"OMS\"").Should().Be(7);
        Value(metrics, "o2x_messages_handled_total", "queue=\"OMS\",outcome=\"processed\"").Should().Be(5);
        Value(metrics, "o2x_messages_handled_total", "queue=\"OMS\",outcome=\"duplicate\"").Should().Be(1);
        Value(metrics, "o2x_messages_handled_total", "queue=\"OMS\",outcome=\"rejected\"").Should().Be(1);
        Value(metrics, "o2x_messages_in_flight", "queue=\"OMS\"").Should().Be(0);
        Value(metrics, "o2x_message_handling_seconds_count", "queue=\"OMS\"").Should().Be(7);
        Value(metrics, "o2x_circuit_breaker_open", "queue=\"OMS\"").Should().Be(0);
        Value(metrics, "o2x_cluster_members", "status=\"up\"").Should().Be(1);
        // Persist latencies reach the metrics through the actor system's event stream, a moment after the write.
        await Eventually.TrueAsync(async () => Value(await Http.GetStringAsync("/metrics"), "o2x_persist_seconds_count", "type=\"order\"") >= 5,
            TimeSpan.FromSeconds(10), "each new order is persisted at least once");
    }

    [Fact]
    public async Task The_journal_writer_reports_each_group_commit_by_phase_and_sqlite_its_checkpoints()
    {
        var before = await Http.GetStringAsync("/metrics");
        var order = HttpJson.SeedSample("oms/order-new.json");
        for (var i = 1; i <= 3; i++)
            (await Http.PostMessageAsync("OMS", order.Replace("SF-ORD-20240211-12345", $"SF-ORD-J-{i}"), $"j-{i}")).StatusCode.Should().Be(HttpStatusCode.Accepted);

        // The checkpointer runs every 500 ms on its own connection; the orders' writes are in the WAL by now.
        var after = await Eventually.ReturnsAsync(() => Http.GetStringAsync("/metrics"),
            m => Value(m, "o2x_sqlite_checkpoint_seconds_count") > Value(before, "o2x_sqlite_checkpoint_seconds_count") + 1,
            TimeSpan.FromSeconds(10), "a checkpoint runs every 500 ms");

        double Delta(string metric, string? labels = null) => Value(after, metric, labels) - Value(before, metric, labels);
        Delta("o2x_journal_group_commits_total", "result=\"committed\"").Should().BeGreaterThan(0);
        Delta("o2x_journal_requests_total").Should().BeGreaterThanOrEqualTo(6, "each order is its number, its account and its own first events");
        Delta("o2x_journal_rows_total").Should().BeGreaterThanOrEqualTo(6, "each new order writes at least two events of its own");
        Delta("o2x_journal_write_seconds_sum", "phase=\"commit\"").Should().BeGreaterThan(0, "a commit with fsync takes time");

        // A scrape is not atomic (prometheus-net writes the families in no fixed order): compare a scrape taken once the writer is
        // idle, i.e. one that a second scrape right after agrees with.
        string? last = null;
        var (_, idle) = await Eventually.ReturnsAsync(async () =>
        {
            var (previous, current) = (last, await Http.GetStringAsync("/metrics"));
            last = current;
            return (previous, current);
        }, s => s.previous is not null && Writes(s.previous) == Writes(s.current), TimeSpan.FromSeconds(10), "the journal writer goes idle");
        var groupCommits = Value(idle, "o2x_journal_group_commits_total", "result=\"committed\"") + Value(idle, "o2x_journal_group_commits_total", "result=\"failed\"");
        foreach (var phase in new[] { "queued", "gate", "statements", "commit" })
            Value(idle, "o2x_journal_write_seconds_count", $"phase=\"{phase}\"").Should().Be(groupCommits, $"every group commit reports its {phase} phase");
        Value(idle, "o2x_journal_writer_busy_seconds_total").Should().BeGreaterThanOrEqualTo(
            Value(idle, "o2x_journal_write_seconds_sum", "phase=\"commit\"") + Value(idle, "o2x_journal_write_seconds_sum", "phase=\"statements\"") - 1e-9,
            "the writer is busy while it waits for its turn, runs its statements and commits");
        Value(after, "o2x_sqlite_wal_frames").Should().BeGreaterThan(0, "the WAL holds the pages written since the last reset");
        Value(after, "o2x_sqlite_wal_frames_pending").Should().BeLessThanOrEqualTo(Value(after, "o2x_sqlite_wal_frames"));
        Value(after, "o2x_sqlite_checkpoints_failed_total").Should().Be(0);
    }

    [Fact]
    public async Task Metrics_need_the_admin_token_from_other_hosts_while_health_stays_open()
    {
        await using var remote = new O2XNodeFactory(callersAddress: IPAddress.Parse("10.1.2.3"));
        var http = remote.CreateClient();

        (await http.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await http.GetAsync("/health/live")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_alert_rules_use_only_metrics_the_node_exports_and_carry_the_seeds_thresholds()
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(RepositoryLayout.Root, "deploy", "prometheus", "o2x-alerts.yml")));
        var rules = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, List<Dictionary<string, object>>>>(reader)["groups"]
            .SelectMany(g => (List<object>)g["rules"]).Cast<Dictionary<object, object>>()
            .ToDictionary(r => (string)r["alert"], r => (string)r["expr"]);
        // Every series the node exports: a histogram's family name and its _count, _sum and _bucket series.
        var exposition = await Http.GetStringAsync("/metrics");
        var exported = Regex.Matches(exposition, "^(\\w+)(?:\\{| )", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        exported.UnionWith(Regex.Matches(exposition, "^# HELP (\\S+) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value));

        foreach (var (alert, expr) in rules)
            foreach (var metric in Regex.Matches(expr, "o2x_[a-z_]+").Select(m => m.Value))
                exported.Should().Contain(metric, $"alert {alert} uses it");
        rules["O2XQueueDepthHigh"].Should().Contain("> 1000");
        rules["O2XDequeueSlowerThanEnqueue"].Should().Contain("< 0.5 *");
        rules["O2XQueueHasNoConsumers"].Should().Contain("== 0");
        rules["O2XDeadLetters"].Should().Contain("> 0");
        rules["O2XProvisioningStuck"].Should().Contain("o2x_orders_provisioning_stuck").And.Contain("> 0");
    }

    [Fact]
    public async Task The_process_and_the_runtime_are_exported_and_a_full_collection_shows_in_them()
    {
        var before = await Http.GetStringAsync("/metrics");
        Value(before, "process_working_set_bytes").Should().BeGreaterThan(0);
        Value(before, "process_cpu_seconds_total").Should().BeGreaterThan(0);
        Value(before, "dotnet_threadpool_threads").Should().BeGreaterThan(0);
        Value(before, "dotnet_gc_allocated_bytes_total").Should().BeGreaterThan(0);

        // The node runs in this process: a full, blocking collection here is one of the node's.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        var after = await Http.GetStringAsync("/metrics");
        Value(after, "dotnet_collection_count_total", "generation=\"2\"").Should().BeGreaterThan(Value(before, "dotnet_collection_count_total", "generation=\"2\""));
        Value(after, "dotnet_gc_pause_seconds_total").Should().BeGreaterThan(Value(before, "dotnet_gc_pause_seconds_total"), "a blocking collection pauses the process");
        Value(after, "dotnet_gc_allocated_bytes_total").Should().BeGreaterThan(Value(before, "dotnet_gc_allocated_bytes_total"), "the scrape itself allocates");

        // Each pause, by generation, from the runtime's GC events: the forced full collection is one more generation-2 pause.
        var pauses = Gen2Pauses(before);
        var latest = await ScrapeUntilAsync(e => Gen2Pauses(e) > pauses);
        Gen2Pauses(latest).Should().BeGreaterThan(pauses, "the forced collection paused the process once more");
        Value(latest, "dotnet_gc_pause_duration_seconds_sum", "generation=\"2\"").Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task A_background_collection_shows_as_two_generation_2_pauses()
    {
        // A background collection pauses the process twice: at its start (usually with an ephemeral collection in the same
        // pause) and for its final mark, a suspension in which no collection starts. Both are generation 2's, so once one has
        // run, the node has counted more generation-2 pauses than the runtime counted generation-2 collections since the
        // scrape. Compared that way, the other tests' collections in this process do not matter: a blocking collection adds one
        // of each, another background collection two pauses for one collection, and one already running when the test scrapes
        // (its start counted before) its final pause alone (a clean run once waited here for two pauses from such a one).
        var pauses = Gen2Pauses(await Http.GetStringAsync("/metrics"));
        var collections = GC.CollectionCount(2);
        var background = GC.GetGCMemoryInfo(GCKind.Background).Index;
        for (var request = 0; request < 5 && GC.GetGCMemoryInfo(GCKind.Background).Index == background; request++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: false);
            var asked = System.Diagnostics.Stopwatch.StartNew();
            while (GC.GetGCMemoryInfo(GCKind.Background).Index == background && asked.Elapsed < TimeSpan.FromSeconds(2)) await Task.Delay(20);
        }

        GC.GetGCMemoryInfo(GCKind.Background).Index.Should().BeGreaterThan(background, "the runtime ran a background collection (concurrent GC is on)");
        var latest = await ScrapeUntilAsync(e => Gen2Pauses(e) - pauses > GC.CollectionCount(2) - collections);
        (Gen2Pauses(latest) - pauses).Should().BeGreaterThan(GC.CollectionCount(2) - collections,
            "a background collection's start and its final mark are both generation 2's pauses");
    }

    private static double Gen2Pauses(string exposition) => Value(exposition, "dotnet_gc_pause_duration_seconds_count", "generation=\"2\"");

    /// <summary>
    /// Scrapes until <paramref name="done"/> holds (at most 30 s) and returns that exposition: the runtime hands its GC events to
    /// the node's listener on a dispatching thread of its own, so a pause shows shortly after it happened.
    /// </summary>
    private Task<string> ScrapeUntilAsync(Func<string, bool> done) =>
        Eventually.ReturnsAsync(() => Http.GetStringAsync("/metrics"), done, TimeSpan.FromSeconds(30), "the GC pause should reach /metrics");

    /// <summary>What the journal writer has reported so far, by two families that a group commit moves both of.</summary>
    private static (double Committed, double Phases) Writes(string exposition) =>
        (Value(exposition, "o2x_journal_group_commits_total", "result=\"committed\""), Value(exposition, "o2x_journal_write_seconds_count", "phase=\"commit\""));

    /// <summary>A sample's value; <paramref name="labels"/> as they appear between the braces, or null for a sample without labels.</summary>
    private static double Value(string exposition, string metric, string? labels = null)
    {
        var series = labels is null ? metric : $"{metric}{{{labels}}}";
        var match = Regex.Match(exposition, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        match.Success.Should().BeTrue($"{series} is exported");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
