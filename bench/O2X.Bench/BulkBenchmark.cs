using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Akka.Actor;
using O2X.Actors.Accounts;
using O2X.Actors.Serialization;
using O2X.Host.Testing;

namespace O2X.Bench;

/// <summary>
/// A bulk job through <c>POST /api/bulk</c> — split into 100-item BULK messages, each item one account command persisted to
/// the journal and one recorded outcome — in items/s from submission to COMPLETED, beside raw batched INSERTs of the same
/// journal rows (the items' events, serialized as O2X does) into the same database. The node runs in this process.
/// </summary>
internal static class BulkBenchmark
{
    public static Command Command()
    {
        var store = new Option<string>("--store") { Description = "sqlite or postgres", DefaultValueFactory = _ => "sqlite" };
        store.AcceptOnlyFromAmong("sqlite", "postgres");
        var items = new Option<int>("--items") { Description = "items in the job (at most 10,000)", DefaultValueFactory = _ => 10_000 };
        var accounts = new Option<int>("--accounts") { Description = "accounts the items spread over", DefaultValueFactory = _ => 100 };
        var command = new Command("bulk", "A bulk job of CREATE_ADJUSTMENT items end to end, beside raw batched INSERTs of its events") { store, items, accounts };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(store)!, parse.GetValue(items), parse.GetValue(accounts)));
        return command;
    }

    private static async Task<int> RunAsync(string kind, int items, int accounts)
    {
        var accountIds = Enumerable.Range(0, accounts).Select(a => $"ACC-BULK-{a:0000}").ToArray();
        JournalBaseline.Result baseline;
        await using (var baselineStore = await BenchStore.CreateAsync(kind, "bulkbase"))
            baseline = await JournalBaseline.RunAsync(baselineStore, Rows(accountIds, items));

        await using var store = await BenchStore.CreateAsync(kind, "bulk");
        var settings = store.NodeEnvironment().ToDictionary(e => e.Key.Replace("__", ":"), e => (string?)e.Value);
        settings["Logging:LogLevel:Default"] = "Warning";
        await using var node = new O2XNodeFactory(settings, settings.GetValueOrDefault("O2X:Persistence:SqlitePath"));
        using var http = node.CreateClient();
        http.Timeout = TimeSpan.FromMinutes(5);
        foreach (var (account, i) in accountIds.Select((a, i) => (a, i))) await http.InvoicedAccountAsync(account, "BULK-BENCH-" + i);

        var job = new JsonObject
        {
            ["id"] = "BENCH-" + Guid.NewGuid().ToString("N")[..8], ["api_name"] = "CREATE_ADJUSTMENT",
            ["payloads"] = new JsonArray(Enumerable.Range(0, items).Select(i => (JsonNode)new JsonObject
            {
                ["account_id"] = accountIds[i % accounts], ["amount"] = 0.01m, ["currency"] = "USD", ["reason"] = "bench " + i,
            }).ToArray()),
        };
        var resources = Resources.OfThisProcess();
        var clock = Stopwatch.StartNew();
        var submitted = await http.SendAsync(HttpJson.Post("/api/bulk", job.ToJsonString()));
        if (submitted.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException(await submitted.Content.ReadAsStringAsync());
        var stats = await http.BulkCompletedAsync(job["id"]!.GetValue<string>(), TimeSpan.FromMinutes(30));
        var elapsed = clock.Elapsed;
        var used = resources.Stop();
        var failed = stats["failure_count"]!.GetValue<int>();
        var throughput = items / elapsed.TotalSeconds;

        Console.WriteLine($"| {kind} | {items:N0} over {accounts} accounts | {elapsed.TotalSeconds:0.00} s | {throughput:N0} | {Resources.Format(used)} | " +
                          $"{baseline.RowsPerSecond:N0} | {throughput / baseline.RowsPerSecond:0.000} |" + (failed > 0 ? $" {failed} failed" : ""));
        return failed == 0 ? 0 : 1;
    }

    /// <summary>The events the items write (one <see cref="LedgerEntryPosted"/> each), serialized as O2X serializes them.</summary>
    private static IReadOnlyList<JournalBaseline.Row> Rows(string[] accounts, int items)
    {
        using var system = ActorSystem.Create("bench-serializer");
        var serializer = new O2XSerializer((ExtendedActorSystem)system);
        var at = DateTimeOffset.UtcNow;
        var rows = Enumerable.Range(0, items).Select(i =>
        {
            var account = accounts[i % accounts.Length];
            var e = new LedgerEntryPosted(account, $"BENCH#{i}", new LedgerEntry($"ADJ-{account}-{i / accounts.Length + 1:0000}", LedgerEntryKind.Adjustment,
                null, 0.01m, "USD", "bench " + i, "BENCH", at), at);
            return new JournalBaseline.Row("account-" + account, 10 + i / accounts.Length, serializer.Manifest(e), serializer.ToBinary(e), false);
        }).ToList();
        system.Terminate().Wait();
        return rows;
    }
}
