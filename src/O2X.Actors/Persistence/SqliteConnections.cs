using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace O2X.Actors.Persistence;

/// <summary>
/// Open SQLite connections kept for reuse, each with its prepared statements: a recovery is one or two
/// point queries, so opening a connection and preparing a statement each time would cost more than the
/// query. WAL lets these readers run beside the single writer.
/// </summary>
internal sealed class SqliteConnections : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly int _maxIdle;
    private readonly ConcurrentBag<Lease> _idle = [];

    public SqliteConnections(string connectionString, int maxIdle = 8)
    {
        _connectionString = connectionString;
        _maxIdle = maxIdle;
    }

    private const string BusyTimeout = "PRAGMA busy_timeout = 10000;";

    /// <summary>
    /// Makes a connection wait for SQLite's write lock inside SQLite, in short sleeps, rather than fail at once or (through
    /// Microsoft.Data.Sqlite's own retry) sleep 150 ms each time it finds the database busy.
    /// </summary>
    public static async Task WaitForLocksAsync(System.Data.Common.DbConnection connection, CancellationToken ct)
    {
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = BusyTimeout;
        await pragma.ExecuteNonQueryAsync(ct);
    }

    /// <inheritdoc cref="WaitForLocksAsync"/>
    public static void WaitForLocks(System.Data.Common.DbConnection connection)
    {
        using var pragma = connection.CreateCommand();
        pragma.CommandText = BusyTimeout;
        pragma.ExecuteNonQuery();
    }

    public async ValueTask<Lease> RentAsync(CancellationToken ct)
    {
        if (_idle.TryTake(out var lease)) return lease;
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        await WaitForLocksAsync(connection, ct);
        return new Lease(connection);
    }

    /// <summary>Runs <paramref name="work"/> on a pooled connection; the connection is closed instead of kept if it failed.</summary>
    public async Task<T> UseAsync<T>(Func<Lease, Task<T>> work, CancellationToken ct)
    {
        var lease = await RentAsync(ct);
        var healthy = false;
        try
        {
            var result = await work(lease);
            healthy = true;
            return result;
        }
        finally
        {
            await ReturnAsync(lease, healthy);
        }
    }

    /// <summary>Gives a healthy connection back; a connection that saw an error is closed instead.</summary>
    public async ValueTask ReturnAsync(Lease lease, bool healthy)
    {
        if (healthy && _idle.Count < _maxIdle) _idle.Add(lease);
        else await lease.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var lease)) await lease.DisposeAsync();
    }

    internal sealed class Lease(SqliteConnection connection) : IAsyncDisposable
    {
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

        public SqliteConnection Connection { get; } = connection;

        /// <summary>The connection's command for <paramref name="sql"/>, prepared once, parameters named as given.</summary>
        public SqliteCommand Command(string sql, params string[] parameters)
        {
            if (_commands.TryGetValue(sql, out var command)) return command;
            command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name });
            _commands[sql] = command;
            return command;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var command in _commands.Values) await command.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }
}
