using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using O2X.Actors.Messaging.Outbox;

namespace O2X.Actors.Persistence;

/// <summary>
/// The outbox: every outbound message, in the order it was derived, readable per destination
/// (<c>GET /api/outbox/{destination}</c>) and the source for broker publishers. Messages and the
/// projection offset that produced them are written in one transaction, so a crash can neither lose a
/// message nor write it twice.
/// </summary>
internal sealed class OutboxStore
{
    private readonly O2XDatabase _database;

    public OutboxStore(O2XDatabase database) => _database = database;

    /// <summary>The journal ordering a projection has processed up to (0 before its first batch).</summary>
    public Task<long> ReadOffsetAsync(string projection, CancellationToken ct = default) => ProjectionOffsets.ReadAsync(_database, projection, ct);

    /// <summary>
    /// Appends <paramref name="messages"/> and moves the projection from <paramref name="fromOffset"/> to
    /// <paramref name="toOffset"/> atomically. Fails (and writes nothing) if another instance moved the
    /// offset in the meantime.
    /// </summary>
    public async Task AppendAsync(string projection, long fromOffset, long toOffset, IReadOnlyList<OutboundMessage> messages, CancellationToken ct = default) =>
        await AppendAsync(projection, fromOffset, toOffset, messages, [], ct);

    /// <summary>
    /// The same, and the batch's changes to the provisioning watch (<see cref="ProvisioningWatchStore"/>) in the same transaction:
    /// the watch follows the journal exactly as the outbox does, at no extra journal read or write transaction.
    /// </summary>
    public async Task AppendAsync(string projection, long fromOffset, long toOffset, IReadOnlyList<OutboundMessage> messages,
        IReadOnlyList<Orders.ProvisioningWatchChange> watch, CancellationToken ct)
    {
        await using var db = await _database.OpenAsync(ct);
        using var turn = await _database.EnterWriteAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        var now = DateTime.UtcNow;
        await ProjectionOffsets.MoveAsync(db, projection, fromOffset, toOffset, now, ct);
        await WriteAsync(db, messages, watch, now, ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// Moves the offset of <paramref name="reader"/> (a relay: it only reads the outbox) from <paramref name="fromOffset"/> to
    /// <paramref name="toOffset"/>; fails if another instance moved it. On SQLite, when this process runs the database's journal
    /// writer, the move joins the writer's next group commit instead of a transaction of its own: one fsync less each time,
    /// and the journal writer no longer waits for SQLite's write turn behind it (a relay moves its offset after every batch it
    /// published, per destination). Not for the outbox projection: at a switch to the outbox in the journal, the journal
    /// writer waits for the projection to catch up (<see cref="OutboxInJournal"/>), so the projection must not wait for the writer.
    /// </summary>
    public async Task MoveReaderOffsetAsync(string reader, long fromOffset, long toOffset, CancellationToken ct = default)
    {
        if (_database.Provider == Hosting.PersistenceProvider.Sqlite && Journal.JournalWriters.For(_database.ConnectionString) is { } journal)
        {
            var move = new JoinedOffsetMove(reader, fromOffset, toOffset, DateTime.UtcNow);
            try
            {
                await journal.JoinAsync(move);
                if (!move.Moved) throw new InvalidOperationException($"Projection {reader} is no longer at offset {fromOffset}: another instance advanced it.");
                return;
            }
            catch (Journal.JournalStoppedException)
            {
                // The journal writer stopped under us (shutdown): it was only the cheaper way; write alone.
            }
        }

        await AppendAsync(reader, fromOffset, toOffset, [], [], ct);
    }

    /// <summary>
    /// <see cref="ProjectionOffsets.MoveAsync"/> as a joined write, in prepared SQL on the journal writer's connection. A move that
    /// finds the offset moved by someone else writes nothing and says so (<see cref="Moved"/>) instead of failing the group commit.
    /// </summary>
    private sealed class JoinedOffsetMove(string name, long fromOffset, long toOffset, DateTime now) : Journal.IJoinedWrite
    {
        public bool Moved { get; private set; }

        public async Task ExecuteAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, CancellationToken ct)
        {
            Moved = false; // a joined write may run again (its group commit failed and is written request by request)
            await using var update = connection.CreateCommand();
            update.Transaction = transaction;
            update.CommandText = "UPDATE o2x_projection_offset SET position = $to, updated_at = $now WHERE name = $name AND position = $from";
            update.AddParameter("$to", toOffset);
            update.AddParameter("$now", O2XDatabase.SqliteDateTime(now));
            update.AddParameter("$name", name);
            update.AddParameter("$from", fromOffset);
            if (await update.ExecuteNonQueryAsync(ct) == 1)
            {
                Moved = true;
                return;
            }

            // Not there yet: only a reader at its very start (offset 0) may create its row; a row that exists was moved by another.
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO o2x_projection_offset (name, position, updated_at) SELECT $name, $to, $now " +
                                 "WHERE $from = 0 AND NOT EXISTS (SELECT 1 FROM o2x_projection_offset WHERE name = $name)";
            insert.AddParameter("$name", name);
            insert.AddParameter("$to", toOffset);
            insert.AddParameter("$now", O2XDatabase.SqliteDateTime(now));
            insert.AddParameter("$from", fromOffset);
            Moved = await insert.ExecuteNonQueryAsync(ct) == 1;
        }
    }

    /// <summary>
    /// Appends <paramref name="messages"/> and applies the provisioning watch's changes inside the caller's transaction on
    /// <paramref name="db"/>: the projection's, or the journal writer's own (<see cref="OutboxInJournal"/>).
    /// </summary>
    internal async Task WriteAsync(DataConnection db, IReadOnlyList<OutboundMessage> messages, IReadOnlyList<Orders.ProvisioningWatchChange> watch,
        DateTime now, CancellationToken ct)
    {
        if (_database.Provider == Hosting.PersistenceProvider.PostgreSql)
        {
            await O2XDatabase.RunPostgresBatchAsync(db, batch => AddTo(batch, messages, watch, now), ct);
            return;
        }

        if (messages.Count > 0) await InsertPreparedAsync(db, messages, now, ct);
        if (watch.Count > 0) await ProvisioningWatchStore.ApplyAsync(db, watch, ct);
    }

    /// <summary>
    /// PostgreSQL: adds to <paramref name="batch"/> the statements that append <paramref name="messages"/> and apply the
    /// provisioning watch's changes, in one round trip with whatever else the batch holds (the journal writer's group commit, or
    /// the projection's transaction). First the outbox lock (<see cref="O2XDatabase.LockOutboxAsync"/>), then one statement whose
    /// text never changes, the messages in array parameters (<c>unnest</c>): a multi-row INSERT with the payloads written into its
    /// text (linq2db's bulk copy) had the server parse ~150 KB of SQL per batch, 3.8 ms a statement (pg_stat_statements).
    /// </summary>
    internal static void AddTo(Npgsql.NpgsqlBatch batch, IReadOnlyList<OutboundMessage> messages, IReadOnlyList<Orders.ProvisioningWatchChange> watch,
        DateTime now)
    {
        if (messages.Count > 0)
        {
            batch.BatchCommands.Add(new Npgsql.NpgsqlBatchCommand(O2XDatabase.LockOutboxSql));
            var insert = new Npgsql.NpgsqlBatchCommand(
                "INSERT INTO o2x_outbox (destination, message_id, correlation_id, payload, headers, created_at) " +
                "SELECT d, m, c, p, h, @t FROM unnest(@d, @m, @c, @p, @h) WITH ORDINALITY AS u(d, m, c, p, h, n) ORDER BY n");
            insert.Parameters.Add(O2XDatabase.PostgresTexts("d", messages.Select(m => m.Destination)));
            insert.Parameters.Add(O2XDatabase.PostgresTexts("m", messages.Select(m => m.MessageId)));
            insert.Parameters.Add(O2XDatabase.PostgresTexts("c", messages.Select(m => m.CorrelationId)));
            insert.Parameters.Add(O2XDatabase.PostgresTexts("p", messages.Select(m => m.Payload)));
            insert.Parameters.Add(O2XDatabase.PostgresTexts("h", messages.Select(m => m.HeadersJson)));
            insert.Parameters.Add(new Npgsql.NpgsqlParameter<DateTime>("t", NpgsqlTypes.NpgsqlDbType.Timestamp) { TypedValue = O2XDatabase.PostgresTimestamp(now) });
            batch.BatchCommands.Add(insert);
        }

        ProvisioningWatchStore.AddTo(batch, watch);
    }

    /// <summary>The database this outbox lives in.</summary>
    internal O2XDatabase Database => _database;

    /// <summary>
    /// SQLite: one prepared statement run per message (parsed once per connection: <see cref="SqliteStatements"/>). A multi-row INSERT
    /// with the payloads written into its text (what linq2db's bulk copy does there) made SQLite parse ~150 KB of SQL per batch while
    /// it held the database's only write lock.
    /// </summary>
    private static async Task InsertPreparedAsync(DataConnection db, IReadOnlyList<OutboundMessage> messages, DateTime now, CancellationToken ct)
    {
        var connection = await db.OpenDbConnectionAsync(ct);
        var insert = SqliteStatements.For(connection, db.Transaction,
            "INSERT INTO o2x_outbox (destination, message_id, correlation_id, payload, headers, created_at) VALUES (@d, @m, @c, @p, @h, @t)",
            "@d", "@m", "@c", "@p", "@h", "@t");
        var p = insert.Parameters;
        p[5].Value = O2XDatabase.SqliteDateTime(now);
        foreach (var m in messages)
        {
            (p[0].Value, p[1].Value, p[2].Value) = (m.Destination, m.MessageId, (object?)m.CorrelationId ?? DBNull.Value);
            (p[3].Value, p[4].Value) = (m.Payload, m.HeadersJson);
            await insert.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>Messages for <paramref name="destination"/> after <paramref name="afterPosition"/>, oldest first.</summary>
    public async Task<IReadOnlyList<StoredOutboundMessage>> ReadAsync(string destination, long afterPosition, int limit, CancellationToken ct = default)
    {
        await using var db = await _database.OpenAsync(ct);
        var rows = await db.GetTable<O2XTables.OutboxRow>()
            .Where(r => r.Destination == destination && r.Position > afterPosition)
            .OrderBy(r => r.Position)
            .Take(limit)
            .ToListAsync(ct);
        return rows.Select(r => new StoredOutboundMessage(
            r.Position, r.Destination, r.MessageId, r.CorrelationId, r.Payload,
            System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(r.Headers) ?? [],
            DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc))).ToList();
    }

    /// <summary>The payloads sent to <paramref name="destination"/> under a correlation id, oldest first (the console's order search).</summary>
    public async Task<IReadOnlyList<string>> PayloadsByCorrelationAsync(string destination, string correlationId, int limit, CancellationToken ct = default)
    {
        await using var db = await _database.OpenAsync(ct);
        return await db.GetTable<O2XTables.OutboxRow>()
            .Where(r => r.CorrelationId == correlationId && r.Destination == destination)
            .OrderBy(r => r.Position)
            .Take(limit)
            .Select(r => r.Payload)
            .ToListAsync(ct);
    }

    /// <summary>
    /// Deletes, across every destination and in position order after <paramref name="after"/>, the messages created before
    /// <paramref name="createdBefore"/> (UTC), except those of a broker-bound destination its relay has not published yet
    /// (<paramref name="published"/>: destination → the relay's offset; 0 keeps them all), <paramref name="chunk"/> positions per
    /// chunk, until it meets a message too young. Returns how many it deleted and the position it reached: every message up to it is
    /// deleted or kept for its relay, so the next pass starts there (and <see cref="PruneAsync"/> takes what a relay publishes later).
    /// Positions follow creation (one writer at a time takes them: SQLite's write lock, PostgreSQL's outbox lock), so what it leaves
    /// is younger.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Position order, not destination by destination: an order's messages to its three destinations lie side by side, so deleting
    /// each destination's in turn rewrote every table page twice before the third freed it. Measured on a SQLite copy of 40,000
    /// orders, 30,000 messages: 49.9 MB of write-ahead log and 638 ms by destination, 25.4 MB and 213-269 ms by position.
    /// </para>
    /// <para>
    /// On SQLite, when this process runs the database's journal writer, each chunk joins the writer's next group commit (as the
    /// relay's offset moves do) rather than a transaction of its own. Measured with a transaction per chunk of 500 (a soak at
    /// 2,630 orders/s, deleting ~7,900 messages/s): p99 went from 28 to 120-154 ms once the deletes began. Otherwise (PostgreSQL, or
    /// no journal writer here) each chunk is its own short transaction and, on SQLite, its own write turn
    /// (<see cref="O2XDatabase.EnterWriteAsync"/>), so that order intake goes on between chunks.
    /// </para>
    /// </remarks>
    public async Task<(long Deleted, long Reached)> PruneExpiredAsync(long after, DateTime createdBefore, IReadOnlyDictionary<string, long> published,
        int chunk, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        var range = new PruneRange(after, TimestampParameter(createdBefore), published, chunk);
        var deleted = await RunPruneAsync(range, ct);
        return (deleted, range.Start);
    }

    /// <summary>
    /// Deletes the messages of <paramref name="destination"/> created before <paramref name="createdBefore"/> (UTC) at positions up to
    /// <paramref name="upToPosition"/> (a relay's offset: what it has published), oldest first, <paramref name="chunk"/> per
    /// statement, until a chunk deletes less than its size: it met a message too young or the bound. For what a relay published
    /// after <see cref="PruneExpiredAsync"/> had passed it by. Returns how many it deleted.
    /// </summary>
    public Task<long> PruneAsync(string destination, long upToPosition, DateTime createdBefore, int chunk, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        return RunPruneAsync(new PruneDestination(destination, upToPosition, TimestampParameter(createdBefore), chunk), ct);
    }

    private object TimestampParameter(DateTime utc) =>
        _database.Provider == Hosting.PersistenceProvider.PostgreSql ? O2XDatabase.PostgresTimestamp(utc) : O2XDatabase.SqliteDateTime(utc);

    /// <summary>Runs <paramref name="prune"/> chunk after chunk while it says there is more; the number of messages it deleted.</summary>
    private async Task<long> RunPruneAsync(IPruneChunk prune, CancellationToken ct)
    {
        var journal = _database.Provider == Hosting.PersistenceProvider.Sqlite ? Journal.JournalWriters.For(_database.ConnectionString) : null;
        long total = 0;
        while (!ct.IsCancellationRequested)
        {
            if (journal is not null)
            {
                try
                {
                    await journal.JoinAsync(prune);
                }
                catch (Journal.JournalStoppedException)
                {
                    journal = null; // stopped under us (shutdown): it was only the cheaper way; delete alone
                    continue;
                }
            }
            else
            {
                await using var db = await _database.OpenAsync(ct);
                var connection = await db.OpenDbConnectionAsync(ct);
                using (await _database.EnterWriteAsync(ct))
                {
                    await using var transaction = await connection.BeginTransactionAsync(ct);
                    await prune.ExecuteAsync(connection, transaction, ct);
                    await transaction.CommitAsync(ct);
                }
            }

            total += prune.Deleted;
            if (!prune.MoveOn()) break;
        }

        return total;
    }

    /// <summary>
    /// A chunk of a prune, run in the caller's transaction: the journal writer's group commit, or one of its own. It may run again
    /// with the same input (its group commit failed and is written request by request), so it sets its results afresh each time.
    /// </summary>
    private interface IPruneChunk : Journal.IJoinedWrite
    {
        int Deleted { get; }

        /// <summary>Called once its run has committed: moves on to the next chunk; false when there is nothing more to delete.</summary>
        bool MoveOn();
    }

    /// <summary>
    /// One chunk of <see cref="PruneAsync"/>. The inner query walks <c>ix_o2x_outbox_destination</c> from the destination's oldest
    /// message; the age is checked on the rows it found, so a destination with nothing expired costs one short index range.
    /// </summary>
    private sealed class PruneDestination(string destination, long upToPosition, object createdBefore, int chunk) : IPruneChunk
    {
        public int Deleted { get; private set; }

        public bool MoveOn() => Deleted == chunk;

        public async Task ExecuteAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, CancellationToken ct)
        {
            Deleted = 0;
            await using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM o2x_outbox WHERE position IN (SELECT position FROM o2x_outbox WHERE destination = @d AND position <= @p " +
                                 "ORDER BY position LIMIT @n) AND created_at < @t";
            delete.AddParameter("@d", destination);
            delete.AddParameter("@p", upToPosition);
            delete.AddParameter("@n", chunk);
            delete.AddParameter("@t", createdBefore);
            Deleted = await delete.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>
    /// One chunk of <see cref="PruneExpiredAsync"/>: looks at the next <c>chunk</c> positions after <see cref="Start"/> (the primary
    /// key's range), deletes those before the first message too young, except what a relay still has to publish, and moves
    /// <see cref="Start"/> there once committed.
    /// </summary>
    private sealed class PruneRange(long start, object createdBefore, IReadOnlyDictionary<string, long> published, int chunk) : IPruneChunk
    {
        private long _reached;
        private bool _more;

        public long Start { get; private set; } = start;

        public int Deleted { get; private set; }

        public bool MoveOn()
        {
            Start = _reached;
            return _more;
        }

        public async Task ExecuteAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, CancellationToken ct)
        {
            (Deleted, _reached, _more) = (0, Start, false);
            long count, last, firstYoung;
            await using (var window = connection.CreateCommand())
            {
                window.Transaction = transaction;
                window.CommandText = "SELECT COUNT(*), COALESCE(MAX(position), 0), COALESCE(MIN(CASE WHEN created_at < @t THEN NULL ELSE position END), 0) " +
                                     "FROM (SELECT position, created_at FROM o2x_outbox WHERE position > @a ORDER BY position LIMIT @n) w";
                window.AddParameter("@t", createdBefore);
                window.AddParameter("@a", Start);
                window.AddParameter("@n", chunk);
                await using var reader = await window.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                (count, last, firstYoung) = (Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2)));
            }

            var upTo = firstYoung > 0 ? firstYoung - 1 : last;
            if (count == 0 || upTo <= Start) return;
            await using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            var keep = new System.Text.StringBuilder();
            var i = 0;
            foreach (var (destination, offset) in published)
            {
                keep.Append($" AND NOT (destination = @d{i} AND position > @o{i})");
                delete.AddParameter($"@d{i}", destination);
                delete.AddParameter($"@o{i}", offset);
                i++;
            }

            delete.CommandText = "DELETE FROM o2x_outbox WHERE position > @a AND position <= @u AND created_at < @t" + keep;
            delete.AddParameter("@a", Start);
            delete.AddParameter("@u", upTo);
            delete.AddParameter("@t", createdBefore);
            Deleted = await delete.ExecuteNonQueryAsync(ct);
            (_reached, _more) = (upTo, count == chunk && firstYoung == 0);
        }
    }

    /// <summary>How many messages a destination holds (for tests and the console).</summary>
    public async Task<long> CountAsync(string destination, CancellationToken ct = default)
    {
        await using var db = await _database.OpenAsync(ct);
        return await db.GetTable<O2XTables.OutboxRow>().LongCountAsync(r => r.Destination == destination, ct);
    }
}

/// <summary>An outbound message as stored, with its position in the outbox.</summary>
internal sealed record StoredOutboundMessage(
    long Position,
    string Destination,
    string MessageId,
    string? CorrelationId,
    string Payload,
    IReadOnlyDictionary<string, string> Headers,
    DateTime CreatedAt);

/// <summary>Where each projection over the journal stands (<c>o2x_projection_offset</c>), moved in the projection's own transaction.</summary>
internal static class ProjectionOffsets
{
    /// <summary>The journal ordering a projection has processed up to (0 before its first batch).</summary>
    public static async Task<long> ReadAsync(O2XDatabase database, string projection, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var row = await db.GetTable<O2XTables.OffsetRow>().FirstOrDefaultAsync(o => o.Name == projection, ct);
        return row?.Position ?? 0;
    }

    /// <summary>
    /// Moves <paramref name="projection"/> from <paramref name="fromOffset"/> to <paramref name="toOffset"/> inside the caller's
    /// transaction; throws (so the transaction writes nothing) if another instance moved it in the meantime.
    /// </summary>
    public static async Task MoveAsync(DataConnection db, string projection, long fromOffset, long toOffset, DateTime now, CancellationToken ct)
    {
        var moved = await db.GetTable<O2XTables.OffsetRow>()
            .Where(o => o.Name == projection && o.Position == fromOffset)
            .Set(o => o.Position, toOffset)
            .Set(o => o.UpdatedAt, now)
            .UpdateAsync(ct);
        if (moved == 0)
        {
            var exists = await db.GetTable<O2XTables.OffsetRow>().AnyAsync(o => o.Name == projection, ct);
            if (exists || fromOffset != 0)
                throw new InvalidOperationException($"Projection {projection} is no longer at offset {fromOffset}: another instance advanced it.");
            await db.InsertAsync(new O2XTables.OffsetRow { Name = projection, Position = toOffset, UpdatedAt = now }, token: ct);
        }
    }
}
