using System.Net;
using Npgsql;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>The journal on the real PostgreSQL server started by ./test.sh.</summary>
public sealed class PostgresJournalTests
{
    [Fact]
    public async Task An_order_round_trips_through_the_postgres_journal_across_a_restart()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = new Dictionary<string, string?> { ["O2X:Persistence:ConnectionString"] = database.ConnectionString };

        await using (var first = new O2XNodeFactory(settings))
        {
            var response = await first.CreateClient().SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")));
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM journal WHERE persistence_id = 'order-ORD-20240211-001'", connection);
            ((long)(await count.ExecuteScalarAsync())!).Should().Be(2, "the order's events (received, provisioning requested) are rows in PostgreSQL");
        }

        await using var second = new O2XNodeFactory(settings);
        var order = await second.CreateClient().GetAsync("/api/orders/ORD-20240211-001");
        order.StatusCode.Should().Be(HttpStatusCode.OK);
        (await order.ReadJson())["details"]!["account_id"]!.GetValue<string>().Should().Be("ACC-1001");
        var client = second.CreateClient();
        (await client.OutboxAtLeastAsync("PROVISIONING_REQUEST", 1)).Should().ContainSingle("the outbox lives in PostgreSQL too");
    }

    /// <summary>
    /// The default on PostgreSQL: the journal writes an order's outbound messages in the transaction of its events (one batch
    /// of statements), so they are in the outbox when the 202 is answered, and its events carry no outbox tag for the
    /// projection. With <c>O2X:Outbox:InJournal=false</c> the events are tagged and this fails.
    /// </summary>
    [Fact]
    public async Task By_default_an_orders_outbound_messages_are_written_with_its_events_untagged()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = new Dictionary<string, string?> { ["O2X:Persistence:ConnectionString"] = database.ConnectionString };
        await using var node = new O2XNodeFactory(settings);
        var response = await node.CreateClient().SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")));
        response.StatusCode.Should().Be(HttpStatusCode.Accepted);

        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        async Task<long> CountAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return (long)(await command.ExecuteScalarAsync())!;
        }

        (await CountAsync("SELECT count(*) FROM journal WHERE persistence_id = 'order-ORD-20240211-001'")).Should().Be(2);
        (await CountAsync("SELECT count(*) FROM tags WHERE persistence_id = 'order-ORD-20240211-001'"))
            .Should().Be(0, "the journal wrote the order's messages itself; the projection must not write them again");
        (await CountAsync("SELECT count(*) FROM o2x_outbox WHERE message_id IN ('arc-order-ORD-20240211-001-1', 'prq-order-ORD-20240211-001-2')"))
            .Should().Be(2, "the archive and the provisioning request committed with the events, before the 202");
        (await CountAsync("SELECT count(*) FROM o2x_provisioning_watch WHERE order_id = 'ORD-20240211-001'")).Should().Be(1);
    }
}
