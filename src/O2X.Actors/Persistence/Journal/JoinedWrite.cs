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

/// <summary>A joined write in a batch, and how it went in the batch's last attempt.</summary>
internal sealed class JoinedSlot(IJoinedWrite write)
{
    public IJoinedWrite Write { get; } = write;

    /// <summary>Set when the write failed and was rolled back to its savepoint (the rest of the batch went on; SQLite).</summary>
    public Exception? Failure { get; set; }
}

/// <summary>Runs the joined writes of a batch, each behind its own savepoint on SQLite, without on PostgreSQL.</summary>
internal static class JoinedWrites
{
    private const string Savepoint = "o2x_joined";

    /// <summary>
    /// With <paramref name="isolated"/>, a write whose statement fails (e.g. a unique key) is rolled back to its savepoint and
    /// recorded in its slot, so it fails its own request only, not the journal's whole group commit. Without, the writes
    /// run without savepoints and a failing one fails the group commit, which the journal writer then writes again request
    /// by request, where it fails its own request only: on PostgreSQL each savepoint and its release are two more round
    /// trips that the whole batch waits for, to guard against a failure that the writes' own statements make all but
    /// impossible (order numbers: an upsert on its key after the day's highest number). A failure of the connection itself
    /// always propagates (the rollback to the savepoint cannot succeed either) and fails the batch, which a lost connection
    /// may write again.
    /// </summary>
    public static async Task RunAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<JoinedSlot> slots, bool isolated,
        CancellationToken ct)
    {
        foreach (var slot in slots)
        {
            slot.Failure = null;
            if (!isolated)
            {
                await slot.Write.ExecuteAsync(connection, transaction, ct).ConfigureAwait(false);
                continue;
            }

            await transaction.SaveAsync(Savepoint, ct).ConfigureAwait(false);
            try
            {
                await slot.Write.ExecuteAsync(connection, transaction, ct).ConfigureAwait(false);
                await transaction.ReleaseAsync(Savepoint, ct).ConfigureAwait(false);
            }
            catch (DbException failure) when (!ct.IsCancellationRequested && !PostgresDataSources.IsConnectionLost(failure))
            {
                await transaction.RollbackAsync(Savepoint, ct).ConfigureAwait(false);
                await transaction.ReleaseAsync(Savepoint, ct).ConfigureAwait(false);
                slot.Failure = failure;
            }
        }
    }
}

/// <summary>The journal writer stopped (or is stopping) before the write could join it: write on your own instead.</summary>
internal sealed class JournalStoppedException(string message) : InvalidOperationException(message);

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

/// <summary>
/// A joined write that can go into the PostgreSQL journal writer's one batch of statements (<see cref="PostgresJournalStore"/>),
/// instead of round trips of its own that the whole group commit would wait for.
/// </summary>
internal interface IPostgresBatchedWrite : IJoinedWrite
{
    /// <summary>Adds this write's statements to <paramref name="batch"/>; each must return exactly one result set.</summary>
    /// <returns>How many statements it added (and so result sets it reads).</returns>
    int AddTo(Npgsql.NpgsqlBatch batch);

    /// <summary>
    /// Reads the results of its statements: called with <paramref name="reader"/> on its first result set, it moves on with
    /// <c>NextResultAsync</c> to each further one it added, and leaves the reader on its last.
    /// </summary>
    Task ReadAsync(Npgsql.NpgsqlDataReader reader, CancellationToken ct);
}

/// <summary>How O2X runs a batch of PostgreSQL statements that batched joined writes may have added to.</summary>
internal static class PostgresBatches
{
    /// <summary>
    /// Runs <paramref name="batch"/> and hands each of <paramref name="batched"/> its result sets (their statements come first in
    /// the batch, in the order they were added), then reads through the rest, so that a failure of any later statement is thrown here: a COMMIT after it would only roll back.
    /// Statements that return no rows (inserts) have no result set.
    /// </summary>
    public static async Task RunAsync(Npgsql.NpgsqlBatch batch, IReadOnlyList<(IPostgresBatchedWrite Write, int Statements)> batched, CancellationToken ct)
    {
        if (batch.BatchCommands.Count == 0) return;
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var onFirst = true;
        foreach (var (write, statements) in batched)
        {
            if (statements == 0) continue;
            if (!onFirst && !await reader.NextResultAsync(ct)) throw new InvalidOperationException("A joined write's statement returned no result.");
            onFirst = false;
            await write.ReadAsync(reader, ct);
        }

        while (await reader.NextResultAsync(ct))
        {
        }
    }
}
