using System.Net;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>State survives a node restart because it lives in the journal, not in memory.</summary>
public sealed class RestartRecoveryTests : IDisposable
{
    private readonly TempDirectory _data = new();

    [Fact]
    public async Task Orders_and_accounts_are_recovered_from_the_sqlite_journal_after_a_restart()
    {
        var database = _data.File("o2x.db");
        await using (var first = new O2XNodeFactory(sqlitePath: database))
        {
            var http = first.CreateClient();
            (await http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")))).StatusCode
                .Should().Be(HttpStatusCode.Accepted);
            (await http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/account-update.json")))).StatusCode
                .Should().Be(HttpStatusCode.Accepted);
        }

        await using var second = new O2XNodeFactory(sqlitePath: database);
        var again = second.CreateClient();

        var order = await (await again.GetAsync("/api/orders/ORD-20240211-001")).ReadJson();
        order["details"]!["correlation_id"]!.GetValue<string>().Should().Be("SF-ORD-20240211-12345");
        var account = await (await again.GetAsync("/api/accounts/ACC-1001")).ReadJson();
        account["payment_method"]!["token"]!.GetValue<string>().Should().Be("tok_visa_1234");

        var resubmitted = await (await again.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")))).ReadJson();
        resubmitted["status"]!.GetValue<string>().Should().Be("duplicate", "the correlation id was recovered with the order numbers");
        var next = await (await again.SendAsync(HttpJson.Post("/api/queues/OMS/messages",
            HttpJson.SeedSample("oms/order-new.json").Replace("SF-ORD-20240211-12345", "SF-ORD-20240211-99999")))).ReadJson();
        next["result"]!["order_id"]!.GetValue<string>().Should().Be("ORD-20240211-002", "numbering continues after the restart");
    }

    [Fact]
    public async Task Switching_to_akka_persistence_sqls_own_journal_needs_no_migration()
    {
        var database = _data.File("switch.db");
        await using (var first = new O2XNodeFactory(sqlitePath: database))
        {
            (await first.CreateClient().PostMessageAsync("OMS", HttpJson.SeedSample("oms/order-new.json"))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await using var stock = new O2XNodeFactory(new Dictionary<string, string?> { ["O2X:Persistence:Journal"] = "AkkaPersistenceSql" }, database);
        var http = stock.CreateClient();
        (await http.GetAsync("/api/orders/ORD-20240211-001")).StatusCode.Should().Be(HttpStatusCode.OK);
        var callback = await http.PostMessageAsync("PROVISIONING_RESPONSE", HttpJson.SeedSample("provisioning/response-completed.json"));
        callback.StatusCode.Should().Be(HttpStatusCode.Accepted, "the order recovered by the other journal goes on");
        (await http.OutboxAtLeastAsync("OMS_RESPONSE", 3)).Should().HaveCount(3, "RECEIVED, COMPLETED, INVOICED");
    }

    public void Dispose() => _data.Dispose();
}
