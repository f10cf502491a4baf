using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>
/// After repeated database failures, Akka.Persistence's journal and snapshot store fail every call at once for a while (each
/// plugin's circuit breaker). With Akka's defaults, 30 s for the journal and 60 s for the snapshot store, a node whose database
/// had come back could neither recover an entity nor persist an event for up to a minute (found in the database-outage chaos
/// scenario: 50 s from PostgreSQL's return to the last order stored). O2X sets both to
/// <c>O2X:Persistence:BreakerResetTimeout</c> (2 s).
/// </summary>
public sealed class DatabaseReturnTests
{
    private const int LiveAccounts = 12;
    private static readonly TimeSpan WithinSecondsOfTheReturn = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Once_the_database_is_back_entities_recover_and_persist_again_within_seconds_although_both_persistence_breakers_opened()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var logs = new CapturedLogs();
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Persistence:ConnectionString"] = postgres.ConnectionString,
            ["O2X:Entities:AskTimeout"] = "00:00:02",
            ["O2X:Ingestion:ResponseTimeout"] = "00:00:05",
            // The binding's own breaker stays out of the way: every order below reaches its account, and how soon one is
            // accepted again depends on the persistence plugins alone.
            ["O2X:Bindings:OMS:CircuitBreaker:MaxFailures"] = "1000",
        }, logs: logs);
        var http = node.CreateClient();
        // Accounts in memory before the outage: an update of one of them makes it write to the journal at once (an order would
        // first take a number, which needs the database too).
        for (var i = 0; i < LiveAccounts; i++)
            (await http.PostMessageAsync("OMS", OrderMessages.Order(i + 1, i), $"return-{i + 1}")).StatusCode.Should().Be(HttpStatusCode.Accepted);

        await postgres.StopAsync();
        // An update of each live account (a journal write each) and reads of accounts nobody has loaded (a snapshot load
        // each), all at once. The journal's breaker opens after 10 consecutive failed calls, the snapshot store's after 5.
        var next = 1000;
        var unknown = 9000;
        await Eventually.TrueAsync(async () =>
        {
            var calls = new List<Task<HttpResponseMessage>>();
            for (var i = 0; i < LiveAccounts; i++, next++) calls.Add(http.PostMessageAsync("OMS", AccountUpdate(i, next), $"return-{next}"));
            for (var i = 0; i < 6; i++) calls.Add(http.GetAsync($"/api/accounts/ACC-{unknown++:0000}"));
            foreach (var response in await Task.WhenAll(calls))
                response.StatusCode.Should().NotBe(HttpStatusCode.Accepted, "nothing is accepted while the database is away");
            return Count(logs, "Failed to persist event") >= LiveAccounts && Count(logs, "Persistence failure when replaying events") >= 6;
        }, TimeSpan.FromSeconds(60), "journal writes and snapshot loads failed often enough to open both breakers");

        await postgres.StartAgainAsync();
        var back = Stopwatch.StartNew();
        var fresh = 9500;
        await Eventually.TrueAsync(async () => (await http.GetAsync($"/api/accounts/ACC-{fresh++:0000}")).StatusCode == HttpStatusCode.NotFound,
            WithinSecondsOfTheReturn, "an account nobody has loaded recovers (its snapshot load and replay succeed) and is answered as not found");
        var recovered = back.Elapsed;
        await Eventually.TrueAsync(async () => (await http.PostMessageAsync("OMS", OrderMessages.Order(5000, 0), "return-5000")).StatusCode == HttpStatusCode.Accepted,
            WithinSecondsOfTheReturn - back.Elapsed, "an order for an account whose write failed is persisted");
        Console.WriteLine($"Database back: an entity recovered after {recovered.TotalSeconds:0.0} s, an order was persisted after {back.Elapsed.TotalSeconds:0.0} s.");
    }

    private static string AccountUpdate(int account, int n)
    {
        var update = JsonNode.Parse(HttpJson.SeedSample("oms/account-update.json"))!.AsObject();
        update["account_id"] = $"ACC-{account:0000}";
        update["updates"]!["billing_address"]!["street"] = $"{n} New Street";
        return update.ToJsonString();
    }

    private static int Count(CapturedLogs logs, string text) => logs.Lines.Count(l => l.Text.Contains(text, StringComparison.Ordinal));
}
