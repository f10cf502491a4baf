using Microsoft.Data.Sqlite;
using Npgsql;

namespace O2X.Bench;

/// <summary>A fresh database for one benchmark run: a new SQLite file, or a new PostgreSQL database.</summary>
internal sealed class BenchStore : IAsyncDisposable
{
    private readonly string? _postgresAdmin;
    private readonly string? _directory;

    private BenchStore(string kind, string connectionString, string? postgresAdmin, string? directory, string? database)
    {
        Kind = kind;
        ConnectionString = connectionString;
        _postgresAdmin = postgresAdmin;
        _directory = directory;
        DatabaseName = database;
    }

    public string Kind { get; }

    public string ConnectionString { get; }

    public string? DatabaseName { get; }

    public bool IsSqlite => Kind == "sqlite";

    /// <summary>Environment for an O2X node using this store.</summary>
    /// <summary>
    /// The node's settings for this store, with an admin token (<see cref="NodeMetrics.AdminToken"/>): a node on PostgreSQL does not
    /// serve <c>/metrics</c> to local callers without one.
    /// </summary>
    public Dictionary<string, string> NodeEnvironment() => IsSqlite
        ? new() { ["O2X__Persistence__SqlitePath"] = new SqliteConnectionStringBuilder(ConnectionString).DataSource, ["O2X__Admin__Token"] = NodeMetrics.AdminToken }
        : new() { ["O2X__Persistence__ConnectionString"] = ConnectionString, ["O2X__Admin__Token"] = NodeMetrics.AdminToken };

    public static async Task<BenchStore> CreateAsync(string kind, string name)
    {
        if (kind == "sqlite")
        {
            var dir = Path.Combine(Path.GetTempPath(), "o2x-bench-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(dir);
            var file = Path.Combine(dir, name + ".db");
            await using (var c = new SqliteConnection($"Data Source={file}"))
            {
                await c.OpenAsync();
                await using var wal = c.CreateCommand();
                wal.CommandText = "PRAGMA journal_mode=WAL;";
                await wal.ExecuteNonQueryAsync();
            }

            return new BenchStore(kind, $"Data Source={file};Pooling=True", null, dir, null);
        }

        var admin = Environment.GetEnvironmentVariable("O2X_TEST_POSTGRES")
                    ?? throw new InvalidOperationException("O2X_TEST_POSTGRES is not set: run the PostgreSQL benchmarks through bench/run.sh.");
        var database = $"bench_{name}_{Guid.NewGuid():N}"[..40];
        await using (var c = new NpgsqlConnection(admin))
        {
            await c.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", c);
            await create.ExecuteNonQueryAsync();
        }

        return new BenchStore(kind, new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString, admin, null, database);
    }

    /// <summary>
    /// How many events still wait for the outbox projection (tagged <c>outbox</c>, after its offset; 0: every outbound message is
    /// in the outbox), read from the database. An order's outbound messages are part of its cost: intake alone can look faster
    /// by leaving them for later. With the outbox written in the journal's transaction (the default) no event waits.
    /// </summary>
    public async Task<long> OutboxLagAsync()
    {
        const string sql = "SELECT COUNT(*) FROM tags WHERE tag = 'outbox' AND ordering_id > " +
                           "COALESCE((SELECT position FROM o2x_projection_offset WHERE name = 'outbox'), 0)";
        await using System.Data.Common.DbConnection connection = IsSqlite ? new SqliteConnection(ConnectionString) : new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public async ValueTask DisposeAsync()
    {
        if (_directory is not null)
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(_directory, recursive: true);
        }

        if (_postgresAdmin is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var c = new NpgsqlConnection(_postgresAdmin);
            await c.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {DatabaseName} WITH (FORCE)", c);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
