using System.Collections.Concurrent;
using System.Data.Common;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// A write that joins the journal's next group commit: it runs on the journal writer's connection, inside the same
/// transaction as the events written with it, and completes when that transaction commits. It may run more than once
/// (a batch that fails is written again request by request), so it must decide everything again each time it runs.
/// </summary>
internal interface IJoinedWrite
{
    Task ExecuteAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct);
}

/// <summary>
/// The journal writers of this process by the database they write to, so that other writers of that database (the
/// order-number allocator) can join their group commits: on SQLite, one writer at a time is all the
/// database allows, and every separate transaction is one more fsync; on PostgreSQL, one more commit to wait for.
/// </summary>
internal static class JournalWriters
{
    private static readonly ConcurrentDictionary<string, WriteBatcher> Writers = new(StringComparer.Ordinal);

    public static void Register(string connectionString, WriteBatcher writer) => Writers[connectionString] = writer;

    public static void Unregister(string connectionString, WriteBatcher writer) =>
        ((ICollection<KeyValuePair<string, WriteBatcher>>)Writers).Remove(new KeyValuePair<string, WriteBatcher>(connectionString, writer));

    /// <summary>The running journal writer of this database, if this process has one (a node with the entities role).</summary>
    public static WriteBatcher? For(string connectionString) => Writers.GetValueOrDefault(connectionString);
}
