using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// SQLite: one long-lived writer connection with prepared statements (SQLite has a single writer anyway);
/// reusable reader connections with prepared statements for recovery, which WAL lets run beside the writer.
/// </summary>
internal sealed class SqliteJournalStore : IJournalStore
{
    private const string InsertSql =
        "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
        "VALUES ($created, 0, $pid, $seq, $message, $manifest, $identifier, $writer)";

    /// <summary>For a row with tags: their rows need its ordering.</summary>
    private const string InsertReturningSql = InsertSql + " RETURNING ordering";

    private const string InsertTagSql = "INSERT INTO tags (ordering_id, tag, sequence_nr, persistence_id) VALUES ($ordering, $tag, $seq, $pid)";

    private readonly SqliteConnections _connections;
    private readonly SqliteCheckpointer _checkpointer;
    private readonly string _synchronous;
    private readonly string _connectionString;
    private SqliteConnections.Lease? _writer;

    public SqliteJournalStore(string connectionString, string synchronous, JournalObservers? observers = null)
    {
        _connectionString = connectionString;
        _connections = new SqliteConnections(connectionString);
        _checkpointer = new SqliteCheckpointer(connectionString, TimeSpan.FromMilliseconds(500), observers);
        _synchronous = synchronous;
    }

    public async Task WriteAsync(IReadOnlyList<JournalRow> rows, IReadOnlyList<JoinedSlot> joined, WritePhases phases, CancellationToken ct)
    {
        var writer = await WriterAsync(ct);
        try
        {
            var waiting = Stopwatch.GetTimestamp();
            using var turn = await SqliteWriteGate.EnterAsync(_connectionString, ct);
            phases.Gate = Stopwatch.GetElapsedTime(waiting);
            await WriteInTransactionAsync(writer, rows, joined, phases, ct);
        }
        catch
        {
            // The writer connection may be in any state after a failure: start afresh next time.
            _writer = null;
            await writer.DisposeAsync();
            throw;
        }
    }

    private static async Task WriteInTransactionAsync(SqliteConnections.Lease writer, IReadOnlyList<JournalRow> rows, IReadOnlyList<JoinedSlot> joined,
        WritePhases phases, CancellationToken ct)
    {
        await using var transaction = (SqliteTransaction)await writer.Connection.BeginTransactionAsync(ct);
        var insert = writer.Command(InsertSql, "$created", "$pid", "$seq", "$message", "$manifest", "$identifier", "$writer");
        var insertReturning = writer.Command(InsertReturningSql, "$created", "$pid", "$seq", "$message", "$manifest", "$identifier", "$writer");
        var insertTag = writer.Command(InsertTagSql, "$ordering", "$tag", "$seq", "$pid");
        insert.Transaction = transaction;
        insertReturning.Transaction = transaction;
        insertTag.Transaction = transaction;
        foreach (var row in rows)
        {
            // Most rows have no tags now (the outbox is written in the journal): they need no ordering back, nor a reader for it.
            var command = row.Tags.Count == 0 ? insert : insertReturning;
            var p = command.Parameters;
            p[0].Value = row.Created;
            p[1].Value = row.PersistenceId;
            p[2].Value = row.SequenceNr;
            p[3].Value = row.Message;
            p[4].Value = row.Manifest;
            p[5].Value = row.SerializerId;
            p[6].Value = row.WriterUuid;
            if (row.Tags.Count == 0)
            {
                await command.ExecuteNonQueryAsync(ct);
                continue;
            }

            var ordering = (long)(await command.ExecuteScalarAsync(ct))!;
            foreach (var tag in row.Tags)
            {
                var t = insertTag.Parameters;
                t[0].Value = ordering;
                t[1].Value = tag;
                t[2].Value = row.SequenceNr;
                t[3].Value = row.PersistenceId;
                await insertTag.ExecuteNonQueryAsync(ct);
            }
        }

        if (joined.Count > 0) await JoinedWrites.RunAsync(writer.Connection, transaction, joined, isolated: true, ct);
        await InlineWrites.RunAsync(writer.Connection, transaction, rows, ct);
        var committing = Stopwatch.GetTimestamp();
        await transaction.CommitAsync(ct);
        phases.Commit = Stopwatch.GetElapsedTime(committing);
    }

    public Task<long> ReadHighestSequenceNrAsync(string persistenceId, CancellationToken ct) =>
        _connections.UseAsync(async lease =>
        {
            var command = lease.Command("SELECT MAX(sequence_number) FROM journal WHERE persistence_id = $p", "$p");
            command.Parameters[0].Value = persistenceId;
            return await command.ExecuteScalarAsync(ct) is long max ? max : 0L;
        }, ct);

    public Task<bool> TablesExistAsync(CancellationToken ct) =>
        _connections.UseAsync(async lease =>
        {
            await using var command = lease.Connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('journal', 'tags')";
            return Convert.ToInt64(await command.ExecuteScalarAsync(ct)) == 2;
        }, ct);

    /// <remarks>In the database's write turn (<see cref="SqliteWriteGate"/>), as every O2X write.</remarks>
    public async Task<IReadOnlyList<string>> DropIndexesAsync(IReadOnlyList<string> names, CancellationToken ct)
    {
        using var turn = await SqliteWriteGate.EnterAsync(_connectionString, ct);
        return await _connections.UseAsync<IReadOnlyList<string>>(async lease =>
        {
            var dropped = new List<string>();
            foreach (var name in names)
            {
                await using var exists = lease.Connection.CreateCommand();
                exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'journal' AND name = $name";
                exists.Parameters.AddWithValue("$name", name);
                if (Convert.ToInt64(await exists.ExecuteScalarAsync(ct)) == 0) continue;
                await using var drop = lease.Connection.CreateCommand();
                drop.CommandText = $"DROP INDEX IF EXISTS \"{name}\"";
                await drop.ExecuteNonQueryAsync(ct);
                dropped.Add(name);
            }

            return dropped;
        }, ct);
    }

    public Task ReadEventsAsync(string persistenceId, long from, long to, long max, Action<StoredEvent> onEvent, CancellationToken ct) =>
        _connections.UseAsync(async lease =>
        {
            var command = lease.Command(
                "SELECT sequence_number, created, message, manifest, identifier, writer_uuid FROM journal " +
                "WHERE persistence_id = $p AND sequence_number >= $from AND sequence_number <= $to AND deleted = 0 " +
                "ORDER BY sequence_number LIMIT $max", "$p", "$from", "$to", "$max");
            command.Parameters[0].Value = persistenceId;
            command.Parameters[1].Value = from;
            command.Parameters[2].Value = to;
            command.Parameters[3].Value = max;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                onEvent(new StoredEvent(reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt32(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5)));
            }

            return 0;
        }, ct);

    public Task MarkDeletedAsync(string persistenceId, long toSequenceNr, CancellationToken ct) =>
        _connections.UseAsync(async lease =>
        {
            var command = lease.Command("UPDATE journal SET deleted = 1 WHERE persistence_id = $p AND sequence_number <= $to", "$p", "$to");
            command.Parameters[0].Value = persistenceId;
            command.Parameters[1].Value = toSequenceNr;
            return await command.ExecuteNonQueryAsync(ct);
        }, ct);

    public async ValueTask DisposeAsync()
    {
        await _checkpointer.DisposeAsync();
        if (_writer is not null) await _writer.DisposeAsync();
        _writer = null;
        await _connections.DisposeAsync();
    }

    private async Task<SqliteConnections.Lease> WriterAsync(CancellationToken ct)
    {
        if (_writer is not null) return _writer;
        var lease = await _connections.RentAsync(ct);
        await using (var pragma = lease.Connection.CreateCommand())
        {
            // Checkpoints (copying the WAL into the database file, with fsync) happen on a background connection,
            // not on the commit path of the journal (see SqliteCheckpointer).
            pragma.CommandText = $"PRAGMA synchronous = {_synchronous}; PRAGMA wal_autocheckpoint = 0;";
            await pragma.ExecuteNonQueryAsync(ct);
        }

        _writer = lease;
        return lease;
    }
}
