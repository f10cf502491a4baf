using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using O2X.Host.Bindings;
using O2X.Host.Testing;
using O2X.Actors.Messaging.Bindings;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>Issue "Failure handling", done-when: PostgreSQL stops under load.</summary>
public sealed class JournalOutageTests
{
    [Fact]
    public async Task When_postgres_stops_under_load_the_breaker_opens_nothing_unpersisted_is_acked_and_processing_resumes_by_itself()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Persistence:ConnectionString"] = postgres.ConnectionString,
            ["O2X:Entities:AskTimeout"] = "00:00:03",
            ["O2X:Bindings:OMS:CircuitBreaker:ResetTimeout"] = "00:00:02",
            // Probes that fail while entities recover after the restart double the wait up to this (production: a minute);
            // bounded here so that how soon orders flow again depends on the node, not on how many probes a loaded machine loses.
            ["O2X:Bindings:OMS:CircuitBreaker:MaxResetTimeout"] = "00:00:10",
            ["O2X:Ingestion:ResponseTimeout"] = "00:00:05",
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Log(string what) => Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        var http = node.CreateClient();
        var breaker = node.Services.GetRequiredService<BindingBreakers>().All["OMS"];
        var opened = false;
        breaker.StateChanged += s => opened |= s == BreakerState.Open;

        // Clients keep sending new orders (each retried with the same idempotency key until accepted) until told to stop.
        var acked = new ConcurrentDictionary<int, DateTime>();
        var next = 0;
        var last = int.MaxValue;
        var refusedWhileDown = 0;
        var down = false;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var senders = Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) <= Volatile.Read(ref last))
            {
                while (!stop.IsCancellationRequested)
                {
                    var response = await http.PostMessageAsync("OMS", OrderMessages.Order(n, n % 40), $"outage-{n}");
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        acked[n] = DateTime.UtcNow;
                        break;
                    }

                    if (Volatile.Read(ref down)) Interlocked.Increment(ref refusedWhileDown);
                    await Task.Delay(200, CancellationToken.None);
                }
            }
        })));

        await Eventually.TrueAsync(() => acked.Count >= 40, TimeSpan.FromSeconds(60), "orders flow before the outage");
        await postgres.StopAsync();
        Log($"PostgreSQL stopped with {acked.Count} accepted");
        Volatile.Write(ref down, true);
        await Eventually.TrueAsync(() => opened, TimeSpan.FromSeconds(90), "the OMS binding's circuit breaker opens");
        Log("breaker open");
        await Eventually.TrueAsync(() => Volatile.Read(ref refusedWhileDown) >= 20, TimeSpan.FromSeconds(90), "clients are refused while it is down");
        Log($"{refusedWhileDown} requests refused");
        // A read the node cannot answer now (an order that must be recovered from the journal) is refused for now, not failed.
        var unanswered = await http.GetAsync("/api/orders/ORD-20240101-001");
        unanswered.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the order cannot recover while the database is down");
        unanswered.Headers.RetryAfter.Should().NotBeNull();
        (await unanswered.ReadJson())["error_code"]!.GetValue<string>().Should().Be("ENTITY_UNAVAILABLE");
        var ackedBeforeRestart = acked.Count;

        await postgres.StartAgainAsync();
        var restarted = DateTime.UtcNow;
        Volatile.Write(ref down, false);
        await Eventually.TrueAsync(() => acked.Count >= ackedBeforeRestart + 40, TimeSpan.FromSeconds(90), "orders flow again after the outage");
        Volatile.Write(ref last, Volatile.Read(ref next));
        await senders.WaitAsync(TimeSpan.FromMinutes(4));
        var count = Volatile.Read(ref last);
        Log($"all {count} accepted");
        Console.WriteLine($"Outage: {ackedBeforeRestart} accepted before the restart; all {count} accepted {(acked.Values.Max() - restarted).TotalSeconds:0.0} s after it.");

        acked.Should().HaveCount(count, "every order is accepted once the database is back, without anyone restarting the node");
        Volatile.Read(ref refusedWhileDown).Should().BeGreaterThan(0, "requests during the outage were refused, not acknowledged");
        breaker.State.Should().Be(BreakerState.Closed);
        ackedBeforeRestart.Should().BeLessThan(count);
        for (var n = 1; n <= count; n++)
        {
            var order = await (await http.GetAsync($"/api/orders/ORD-20240211-{n:000}")).ReadJson();
            order["timeline"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).Should().Equal(["RECEIVED", "PROVISIONING"],
                $"order {n} was persisted exactly once");
        }

        Log("orders checked");
        (await http.OutboxAtLeastAsync("PROVISIONING_REQUEST", count, TimeSpan.FromSeconds(60)))
            .Select(m => m["payload"]!["order_id"]!.GetValue<string>()).Should().OnlyHaveUniqueItems().And.HaveCount(count);
    }
}
