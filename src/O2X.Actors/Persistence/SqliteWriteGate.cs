using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace O2X.Actors.Persistence;

/// <summary>
/// SQLite lets one transaction write at a time. O2X's busy writers of one database file in this process — the journal's
/// group commit and the outbox projection — take turns here, before they begin, instead of inside SQLite: a writer that
/// finds the database locked sleeps in SQLite's busy handler in growing steps (1, 2, 5, 10, 15, 20, 25 … ms) and so often
/// starts well after the lock was free again, and every order waiting for the journal waits with it. Here the next writer
/// starts as soon as the last one committed. Other writers (rare) still wait inside SQLite (<c>busy_timeout</c>).
/// </summary>
internal static class SqliteWriteGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <summary>Waits for this database's turn; dispose the result once the transaction has committed or rolled back.</summary>
    public static async ValueTask<Turn> EnterAsync(string connectionString, CancellationToken ct)
    {
        var gate = Gates.GetOrAdd(KeyOf(connectionString), static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        return new Turn(gate);
    }

    /// <summary>The database file, whatever else the connection string says (pooling, cache, …).</summary>
    internal static string KeyOf(string connectionString)
    {
        var source = new SqliteConnectionStringBuilder(connectionString).DataSource;
        return source.Length == 0 || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
            ? source
            : Path.GetFullPath(source);
    }

    internal readonly struct Turn(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
