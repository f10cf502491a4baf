using LinqToDB;
using LinqToDB.Async;
using O2X.Actors.Orders;
using LinqToDB.Data;

namespace O2X.Actors.Persistence;

/// <summary>An order whose provisioning request is outstanding, as the watchdog's projection keeps it.</summary>
internal sealed record WatchedProvisioning(string OrderId, string AccountId, string RequestId, DateTimeOffset RequestedAt, DateTimeOffset? StuckAt);

/// <summary>
/// <c>o2x_provisioning_watch</c>: one row per order waiting for the network, kept by the outbox projection (in the transaction
/// that appends the outbox messages of the same events and moves its offset), flagged STUCK by the watchdog.
/// </summary>
internal sealed class ProvisioningWatchStore(O2XDatabase database)
{
    /// <summary>
    /// Applies a batch's changes inside the caller's transaction (the outbox projection's): each order touched ends as the last
    /// change made it — watched under its latest request, or not at all. Two statements per batch.
    /// </summary>
    public static async Task ApplyAsync(DataConnection db, IReadOnlyList<ProvisioningWatchChange> changes, CancellationToken ct)
    {
        if (db.DataProvider.Name.Contains("SQLite", StringComparison.OrdinalIgnoreCase))
        {
            var last = new Dictionary<string, ProvisioningWatchChange>(StringComparer.Ordinal);
            foreach (var change in changes) last[change.OrderId] = change;
            await ApplyPreparedAsync(db, last.Values, ct);
            return;
        }

        await O2XDatabase.RunPostgresBatchAsync(db, batch => AddTo(batch, changes), ct);
    }

    /// <summary>
    /// PostgreSQL: adds the statements that apply <paramref name="changes"/> to <paramref name="batch"/>: the orders' rows deleted,
    /// then those still watched inserted, each one statement whose text never changes with the values in array parameters
    /// (linq2db's key-list delete and multi-row insert wrote them into the SQL text, a new statement for the server to parse in
    /// every batch).
    /// </summary>
    internal static void AddTo(Npgsql.NpgsqlBatch batch, IReadOnlyList<ProvisioningWatchChange> changes)
    {
        if (changes.Count == 0) return;
        var last = new Dictionary<string, ProvisioningWatchChange>(StringComparer.Ordinal);
        foreach (var change in changes) last[change.OrderId] = change;
        var delete = new Npgsql.NpgsqlBatchCommand("DELETE FROM o2x_provisioning_watch WHERE order_id = ANY(@o)");
        delete.Parameters.Add(O2XDatabase.PostgresTexts("o", last.Keys));
        batch.BatchCommands.Add(delete);

        var watched = last.Values.OfType<ProvisioningWatchChange.Watch>().ToList();
        if (watched.Count == 0) return;
        var insert = new Npgsql.NpgsqlBatchCommand("INSERT INTO o2x_provisioning_watch (order_id, account_id, request_id, requested_at, stuck_at) " +
                                                   "SELECT o, a, r, t, NULL FROM unnest(@o, @a, @r, @t) AS u(o, a, r, t)");
        insert.Parameters.Add(O2XDatabase.PostgresTexts("o", watched.Select(w => w.OrderId)));
        insert.Parameters.Add(O2XDatabase.PostgresTexts("a", watched.Select(w => w.AccountId)));
        insert.Parameters.Add(O2XDatabase.PostgresTexts("r", watched.Select(w => w.RequestId)));
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<DateTime[]>("t", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Timestamp)
        {
            TypedValue = [.. watched.Select(w => O2XDatabase.PostgresTimestamp(w.RequestedAt.UtcDateTime))],
        });
        batch.BatchCommands.Add(insert);
    }

    /// <summary>
    /// SQLite: one prepared statement run per order (parsed once per connection: <see cref="SqliteStatements"/>), on the connection and
    /// in the transaction of <paramref name="db"/> — which is
    /// the journal writer's, holding the database's only write lock. Measured: linq2db's delete of a list of keys (a query built
    /// and translated for every batch) and its multi-row insert took 6% of the node's CPU inside that lock.
    /// </summary>
    private static async Task ApplyPreparedAsync(DataConnection db, IEnumerable<ProvisioningWatchChange> changes, CancellationToken ct)
    {
        var connection = await db.OpenDbConnectionAsync(ct);
        // A new request replaces the order's row, and is not stuck (yet).
        var upsert = SqliteStatements.For(connection, db.Transaction,
            "INSERT INTO o2x_provisioning_watch (order_id, account_id, request_id, requested_at, stuck_at) VALUES (@o, @a, @r, @t, NULL) " +
            "ON CONFLICT (order_id) DO UPDATE SET account_id = excluded.account_id, request_id = excluded.request_id, " +
            "requested_at = excluded.requested_at, stuck_at = NULL", "@o", "@a", "@r", "@t");
        var delete = SqliteStatements.For(connection, db.Transaction, "DELETE FROM o2x_provisioning_watch WHERE order_id = @o", "@o");
        var (order, account, request, at) = (upsert.Parameters[0], upsert.Parameters[1], upsert.Parameters[2], upsert.Parameters[3]);
        var deleted = delete.Parameters[0];
        foreach (var change in changes)
        {
            if (change is ProvisioningWatchChange.Watch w)
            {
                (order.Value, account.Value, request.Value) = (w.OrderId, w.AccountId, w.RequestId);
                at.Value = O2XDatabase.SqliteDateTime(w.RequestedAt.UtcDateTime);
                await upsert.ExecuteNonQueryAsync(ct);
            }
            else
            {
                deleted.Value = change.OrderId;
                await delete.ExecuteNonQueryAsync(ct);
            }
        }
    }

    /// <summary>Outstanding requests older than <paramref name="cutoff"/> not flagged yet, oldest first.</summary>
    public async Task<IReadOnlyList<WatchedProvisioning>> OverdueAsync(DateTimeOffset cutoff, int limit, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var before = cutoff.UtcDateTime;
        var rows = await db.GetTable<O2XTables.ProvisioningWatchRow>().Where(r => r.StuckAt == null && r.RequestedAt < before)
            .OrderBy(r => r.RequestedAt).Take(limit).ToListAsync(ct);
        return rows.Select(ToWatched).ToList();
    }

    /// <summary>Records that the order entity accepted the STUCK flag for <paramref name="requestId"/> (no-op if the row moved on).</summary>
    public async Task MarkStuckAsync(string orderId, string requestId, DateTimeOffset at, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        await db.GetTable<O2XTables.ProvisioningWatchRow>().Where(r => r.OrderId == orderId && r.RequestId == requestId)
            .Set(r => r.StuckAt, at.UtcDateTime).UpdateAsync(ct);
    }

    /// <summary>STUCK orders, longest stuck first.</summary>
    public async Task<IReadOnlyList<WatchedProvisioning>> StuckAsync(int limit, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var rows = await db.GetTable<O2XTables.ProvisioningWatchRow>().Where(r => r.StuckAt != null)
            .OrderBy(r => r.RequestedAt).Take(limit).ToListAsync(ct);
        return rows.Select(ToWatched).ToList();
    }

    public async Task<int> CountStuckAsync(CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        return await db.GetTable<O2XTables.ProvisioningWatchRow>().CountAsync(r => r.StuckAt != null, ct);
    }

    private static WatchedProvisioning ToWatched(O2XTables.ProvisioningWatchRow r) => new(r.OrderId, r.AccountId, r.RequestId,
        new DateTimeOffset(DateTime.SpecifyKind(r.RequestedAt, DateTimeKind.Utc)),
        r.StuckAt is { } stuck ? new DateTimeOffset(DateTime.SpecifyKind(stuck, DateTimeKind.Utc)) : null);
}
