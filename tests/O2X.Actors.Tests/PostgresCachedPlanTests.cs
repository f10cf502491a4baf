using Npgsql;
using O2X.Actors.Hosting;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;
using O2X.Actors.Persistence.Journal;
using O2X.Testing;

namespace O2X.Actors.Tests;

/// <summary>
/// O2X's statements are prepared on their connections (Npgsql's automatic preparation), and PostgreSQL may then keep one
/// plan for a statement, made from the table's size at that moment. Made while a table was small, that plan was a scan of
/// the whole table and stayed as the table grew: in a benchmark run the provisioning watch's delete took 3.6 ms instead of
/// 0.04 in every group commit. These run O2X's statements on one connection of its pools, as the journal does, while the
/// table is small, let it grow, and count the scans of the table PostgreSQL started for the statement
/// (<c>pg_stat_xact_user_tables</c> before and after it, in one transaction: on PostgreSQL 15 the view also holds the
/// session's counts not yet reported, so only the difference is the statement's).
/// </summary>
public sealed class PostgresCachedPlanTests
{
    private static readonly DateTimeOffset At = new(2024, 2, 11, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_provisioning_watch_delete_finds_its_rows_by_key_after_the_table_grew_under_a_cached_plan()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using (await new O2XDatabase(new PersistenceOptions { Provider = PersistenceProvider.PostgreSql, ConnectionString = database.ConnectionString })
                         .OpenAsync())
        {
            // O2X's tables are created on first use.
        }

        await using var source = PostgresDataSources.Create(database.ConnectionString, "journal");
        await using var connection = await source.OpenConnectionAsync();

        // A few orders wait for the network, and autovacuum has looked at the young table (it analyzes a table after its first 50
        // rows and 10% more).
        await ApplyAsync(connection, [.. Enumerable.Range(0, 60).Select(k => new ProvisioningWatchChange.Watch($"ORD-EARLY-{k}", "ACC-1", "prq", At))]);
        await ExecuteAsync(connection, "ANALYZE o2x_provisioning_watch");

        // While the table is small the statements run often enough to be prepared and to have their plan chosen; as in a
        // group commit, each batch holds the changes of a dozen or more orders.
        for (var i = 0; i < 30; i++)
        {
            await ApplyAsync(connection, [.. Enumerable.Range(0, 16).Select(k => new ProvisioningWatchChange.Watch($"ORD-SMALL-{i}-{k}", "ACC-1", "prq", At))]);
            await ApplyAsync(connection, [.. Enumerable.Range(0, 16).Select(k => new ProvisioningWatchChange.Unwatch($"ORD-SMALL-{i}-{k}"))]);
        }

        // Then it grows, as it does while many orders wait for the network, faster than autovacuum looks at it (once a minute).
        await ExecuteAsync(connection, "INSERT INTO o2x_provisioning_watch (order_id, account_id, request_id, requested_at, stuck_at) " +
                                       "SELECT 'ORD-WAITING-' || g, 'ACC-1', 'prq-' || g, now(), NULL FROM generate_series(1, 20000) AS g");

        await using var transaction = await connection.BeginTransactionAsync();
        var before = await ScansAsync(connection, transaction, "o2x_provisioning_watch");
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            ProvisioningWatchStore.AddTo(batch, [new ProvisioningWatchChange.Unwatch("ORD-WAITING-77"), new ProvisioningWatchChange.Unwatch("ORD-WAITING-78")]);
            await PostgresBatches.RunAsync(batch, [], CancellationToken.None);
        }

        (await ScansAsync(connection, transaction, "o2x_provisioning_watch") - before).Should().Be(0, "the delete finds its orders by key, not by reading the whole table");
        (await CountAsync(connection, transaction, "SELECT count(*) FROM o2x_provisioning_watch WHERE order_id IN ('ORD-WAITING-77', 'ORD-WAITING-78')"))
            .Should().Be(0, "both orders are no longer watched");
        (await CountAsync(connection, transaction, "SELECT count(*) FROM o2x_provisioning_watch")).Should().Be(60 + 19_998);
    }

    [Fact]
    public async Task An_entitys_recovery_read_finds_its_events_by_key_after_the_journal_grew_under_a_cached_plan()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var source = PostgresDataSources.Create(database.ConnectionString, "journal");
        await using var connection = await source.OpenConnectionAsync();
        // The journal's shape as Akka.Persistence.Sql creates it on PostgreSQL (its unique key is the index the read needs).
        await ExecuteAsync(connection, "CREATE TABLE journal (ordering BIGSERIAL PRIMARY KEY, deleted BOOLEAN NOT NULL, persistence_id VARCHAR(255) NOT NULL, " +
                                       "sequence_number BIGINT NOT NULL, created BIGINT NOT NULL, tags VARCHAR(100), message BYTEA NOT NULL, identifier INTEGER, " +
                                       "manifest VARCHAR(500) NOT NULL, writer_uuid VARCHAR(128), UNIQUE (persistence_id, sequence_number))");
        await ExecuteAsync(connection, "INSERT INTO journal (deleted, persistence_id, sequence_number, created, message, manifest) " +
                                       "SELECT false, 'account-' || (g % 10), g, 0, '\\x00', 'm' FROM generate_series(1, 20) AS g");
        // Autovacuum has looked at the young journal (it analyzes a table after its first 50 rows and 10%).
        await ExecuteAsync(connection, "ANALYZE journal");

        for (var i = 0; i < 30; i++)
            (await ReadEventsAsync(connection, null, "account-" + (i % 10))).Should().Be(2);

        await ExecuteAsync(connection, "INSERT INTO journal (deleted, persistence_id, sequence_number, created, message, manifest) " +
                                       "SELECT false, 'order-' || (g % 50000), g, 0, '\\x00', 'm' FROM generate_series(1, 200000) AS g");

        await using var transaction = await connection.BeginTransactionAsync();
        var before = await ScansAsync(connection, transaction, "journal");
        (await ReadEventsAsync(connection, transaction, "order-77")).Should().Be(4);
        (await ScansAsync(connection, transaction, "journal") - before).Should().Be(0, "the recovery read finds the entity's events by its key, not by reading the journal");
    }

    [Theory]
    [InlineData(null, "off")]
    [InlineData("-c statement_timeout=5000", "off")]
    [InlineData("-c enable_seqscan=on", "on")]
    public async Task The_pools_plan_without_sequential_scans_unless_the_connection_string_chooses(string? options, string expected)
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var connectionString = database.ConnectionString + (options is null ? "" : ";Options=" + options);
        await using var source = PostgresDataSources.Create(connectionString, "journal");
        for (var i = 0; i < 2; i++)
        {
            // Twice: the second connection is the first one again, back from the pool.
            await using var connection = await source.OpenConnectionAsync();
            await using var show = new NpgsqlCommand("SHOW enable_seqscan", connection);
            ((string)(await show.ExecuteScalarAsync())!).Should().Be(expected);
            await using var timeout = new NpgsqlCommand("SHOW statement_timeout", connection);
            ((string)(await timeout.ExecuteScalarAsync())!).Should().Be(options?.Contains("statement_timeout") == true ? "5s" : "0",
                "the connection string's own options are kept");
        }
    }

    private static async Task<int> ReadEventsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string persistenceId)
    {
        await using var command = new NpgsqlCommand(PostgresJournalStore.ReadEventsSql, connection, transaction);
        command.Parameters.AddWithValue("p", persistenceId);
        command.Parameters.AddWithValue("from", 1L);
        command.Parameters.AddWithValue("to", long.MaxValue);
        command.Parameters.AddWithValue("max", long.MaxValue);
        await using var reader = await command.ExecuteReaderAsync();
        var events = 0;
        while (await reader.ReadAsync()) events++;
        return events;
    }

    private static async Task ApplyAsync(NpgsqlConnection connection, IReadOnlyList<ProvisioningWatchChange> changes)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            ProvisioningWatchStore.AddTo(batch, changes);
            await PostgresBatches.RunAsync(batch, [], CancellationToken.None);
        }

        await transaction.CommitAsync();
    }

    private static async Task<long> ScansAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table)
    {
        await using var command = new NpgsqlCommand("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = @t", connection, transaction);
        command.Parameters.AddWithValue("t", table);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
