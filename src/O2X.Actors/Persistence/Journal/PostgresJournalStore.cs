using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// PostgreSQL: a group commit is one batch of statements and its commit (two round trips whatever the batch size).
/// </summary>
internal sealed class PostgresJournalStore : IJournalStore
{
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>An entity's events for its recovery (parameters <c>@p</c>, <c>@from</c>, <c>@to</c>, <c>@max</c>).</summary>
    internal const string ReadEventsSql =
        "SELECT sequence_number, created, message, manifest, identifier, writer_uuid FROM journal " +
        "WHERE persistence_id = @p AND sequence_number >= @from AND sequence_number <= @to AND deleted = false " +
        "ORDER BY sequence_number LIMIT @max";

    public PostgresJournalStore(string connectionString) => _dataSource = PostgresDataSources.Create(connectionString, "journal");

    /// <remarks>
    /// A batch that failed on a connection the server had closed is written again on a fresh one, unless its commit had been
    /// sent: then whether it committed is unknown, and the batch fails as any other write would.
    /// </remarks>
    public Task WriteAsync(IReadOnlyList<JournalRow> rows, IReadOnlyList<JoinedSlot> joined, WritePhases phases, CancellationToken ct)
    {
        var committing = false;
        return _dataSource.RetryingLostConnectionAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await WriteStatementsAsync(connection, transaction, rows, joined, ct);
            committing = true;
            var started = Stopwatch.GetTimestamp();
            await transaction.CommitAsync(ct);
            phases.Commit = Stopwatch.GetElapsedTime(started);
        }, mayRetry: () => !committing);
    }

    /// <summary>
    /// Everything before the commit in one round trip where it can be: one batch of statements (Npgsql sends the transaction's
    /// BEGIN with it) holding the joined writes that can be batched (order numbers, <see cref="IPostgresBatchedWrite"/>), the
    /// events and their tags, and last the inline projections' rows (the outbox, whose lock is then held only to the commit).
    /// The writer waits for every round trip, and the whole group commit with it: measured, the outbox's four statements as
    /// round trips of their own made a group commit's statements take 3.6 ms instead of 2.4. Joined writes that cannot be
    /// batched run first, and inline projections that cannot be batched last, each as before.
    /// </summary>
    private static async Task WriteStatementsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<JournalRow> rows,
        IReadOnlyList<JoinedSlot> joined, CancellationToken ct)
    {
        var alone = new List<JoinedSlot>();
        var batched = new List<(IPostgresBatchedWrite Write, int Statements)>();
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var slot in joined)
        {
            slot.Failure = null;
            if (slot.Write is IPostgresBatchedWrite write) batched.Add((write, write.AddTo(batch)));
            else alone.Add(slot);
        }

        if (alone.Count > 0) await JoinedWrites.RunAsync(connection, transaction, alone, isolated: false, ct);
        if (rows.Count > 0) AddInsert(batch, rows);
        var inlineBatched = InlineWrites.TryAddTo(batch, rows);
        await PostgresBatches.RunAsync(batch, batched, ct);
        if (!inlineBatched) await InlineWrites.RunAsync(connection, transaction, rows, ct);
    }

    /// <summary>
    /// One statement: the events through <c>unnest</c> of arrays and, when some carry tags, their tag rows in a data-modifying CTE
    /// that joins the orderings the insert returned.
    /// </summary>
    private static void AddInsert(NpgsqlBatch batch, IReadOnlyList<JournalRow> rows)
    {
        const string insert =
            "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
            "SELECT c, false, p, s, m, f, i, w FROM unnest(@c, @p, @s, @m, @f, @i, @w) AS t(c, p, s, m, f, i, w)";
        var tagPid = new List<string>();
        var tagSeq = new List<long>();
        var tagName = new List<string>();
        foreach (var row in rows)
        {
            foreach (var tag in row.Tags)
            {
                tagPid.Add(row.PersistenceId);
                tagSeq.Add(row.SequenceNr);
                tagName.Add(tag);
            }
        }

        var command = new NpgsqlBatchCommand(tagName.Count == 0
            ? insert
            : "WITH j AS (" + insert + " RETURNING ordering, persistence_id, sequence_number) " +
              "INSERT INTO tags (ordering_id, tag, sequence_nr, persistence_id) " +
              "SELECT j.ordering, g.tag, j.sequence_number, j.persistence_id FROM unnest(@tp, @ts, @tt) AS g(p, s, tag) " +
              "JOIN j ON j.persistence_id = g.p AND j.sequence_number = g.s");
        command.Parameters.Add(new NpgsqlParameter<long[]>("c", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = [.. rows.Select(r => r.Created)] });
        command.Parameters.Add(new NpgsqlParameter<string[]>("p", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. rows.Select(r => r.PersistenceId)] });
        command.Parameters.Add(new NpgsqlParameter<long[]>("s", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = [.. rows.Select(r => r.SequenceNr)] });
        command.Parameters.Add(new NpgsqlParameter<byte[][]>("m", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = [.. rows.Select(r => r.Message)] });
        command.Parameters.Add(new NpgsqlParameter<string[]>("f", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. rows.Select(r => r.Manifest)] });
        command.Parameters.Add(new NpgsqlParameter<int[]>("i", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = [.. rows.Select(r => r.SerializerId)] });
        command.Parameters.Add(new NpgsqlParameter<string[]>("w", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. rows.Select(r => r.WriterUuid)] });
        if (tagName.Count > 0)
        {
            command.Parameters.Add(new NpgsqlParameter<string[]>("tp", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. tagPid] });
            command.Parameters.Add(new NpgsqlParameter<long[]>("ts", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = [.. tagSeq] });
            command.Parameters.Add(new NpgsqlParameter<string[]>("tt", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. tagName] });
        }

        batch.BatchCommands.Add(command);
    }

    public Task<long> ReadHighestSequenceNrAsync(string persistenceId, CancellationToken ct) =>
        _dataSource.RetryingLostConnectionAsync(() => ReadHighestAsync(persistenceId, ct));

    private async Task<long> ReadHighestAsync(string persistenceId, CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand("SELECT MAX(sequence_number) FROM journal WHERE persistence_id = @p");
        command.Parameters.AddWithValue("p", persistenceId);
        var result = await command.ExecuteScalarAsync(ct);
        return result is long max ? max : 0L;
    }

    public Task<bool> TablesExistAsync(CancellationToken ct) => _dataSource.RetryingLostConnectionAsync(async () =>
    {
        await using var command = _dataSource.CreateCommand("SELECT to_regclass('journal') IS NOT NULL AND to_regclass('tags') IS NOT NULL");
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    });

    /// <remarks>
    /// Dropping an index takes the table's exclusive lock, which waits for the transactions on it (other nodes' group commits,
    /// a bill run's scan) and holds up those that come after: at most 1 s (<c>lock_timeout</c>), then it fails (see
    /// <see cref="JournalSchema"/> for the retries). <c>SET LOCAL</c> ends with the transaction, so no pooled connection keeps it.
    /// </remarks>
    public Task<IReadOnlyList<string>> DropIndexesAsync(IReadOnlyList<string> names, CancellationToken ct) =>
        _dataSource.RetryingLostConnectionAsync<IReadOnlyList<string>>(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var timeout = new NpgsqlCommand("SET LOCAL lock_timeout = '1s'", connection, transaction))
                await timeout.ExecuteNonQueryAsync(ct);
            var dropped = new List<string>();
            foreach (var name in names)
            {
                await using var exists = new NpgsqlCommand("SELECT to_regclass(@name) IS NOT NULL", connection, transaction);
                exists.Parameters.AddWithValue("name", name);
                if (!(bool)(await exists.ExecuteScalarAsync(ct))!) continue;
                await using var drop = new NpgsqlCommand($"DROP INDEX IF EXISTS \"{name}\"", connection, transaction);
                await drop.ExecuteNonQueryAsync(ct);
                dropped.Add(name);
            }

            await transaction.CommitAsync(ct);
            return dropped;
        });

    /// <remarks>Read again after a lost connection only if no event had been handed on yet.</remarks>
    public Task ReadEventsAsync(string persistenceId, long from, long to, long max, Action<StoredEvent> onEvent, CancellationToken ct)
    {
        var handed = false;
        return _dataSource.RetryingLostConnectionAsync(() => ReadAsync(persistenceId, from, to, max, e =>
        {
            handed = true;
            onEvent(e);
        }, ct), mayRetry: () => !handed);
    }

    private async Task ReadAsync(string persistenceId, long from, long to, long max, Action<StoredEvent> onEvent, CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand(ReadEventsSql);
        command.Parameters.AddWithValue("p", persistenceId);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        command.Parameters.AddWithValue("max", max);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            onEvent(new StoredEvent(reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }
    }

    public Task MarkDeletedAsync(string persistenceId, long toSequenceNr, CancellationToken ct) =>
        _dataSource.RetryingLostConnectionAsync(() => MarkAsync(persistenceId, toSequenceNr, ct));

    private async Task MarkAsync(string persistenceId, long toSequenceNr, CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand("UPDATE journal SET deleted = true WHERE persistence_id = @p AND sequence_number <= @to");
        command.Parameters.AddWithValue("p", persistenceId);
        command.Parameters.AddWithValue("to", toSequenceNr);
        await command.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
