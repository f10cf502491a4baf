using LinqToDB;
using LinqToDB.Async;
using O2X.Actors.Orders;
using O2X.Actors.Persistence.Query;

namespace O2X.Actors.Persistence;

/// <summary>An order whose provisioning request is outstanding, as the watchdog's projection keeps it.</summary>
internal sealed record WatchedProvisioning(string OrderId, string AccountId, string RequestId, DateTimeOffset RequestedAt, DateTimeOffset? StuckAt);

/// <summary>
/// <c>o2x_provisioning_watch</c>: one row per order waiting for the network, kept by the watchdog's projection over the
/// journal (written with the projection's offset in one transaction), flagged STUCK by the watchdog.
/// </summary>
internal sealed class ProvisioningWatchStore(O2XDatabase database)
{
    public const string ProjectionName = "provisioning-watch";

    public Task<long> ReadOffsetAsync(CancellationToken ct) => ProjectionOffsets.ReadAsync(database, ProjectionName, ct);

    /// <summary>Applies a batch's changes in journal order and moves the offset, in one transaction. Returns the rows changed.</summary>
    public async Task<int> ApplyAsync(long fromOffset, TaggedBatch batch, IReadOnlyList<ProvisioningWatchChange> changes, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        await ProjectionOffsets.MoveAsync(db, ProjectionName, fromOffset, batch.SafeOffset, DateTime.UtcNow, ct);
        var table = db.GetTable<O2XTables.ProvisioningWatchRow>();
        foreach (var change in changes)
        {
            await table.Where(r => r.OrderId == change.OrderId).DeleteAsync(ct);
            if (change is ProvisioningWatchChange.Watch watch)
                await db.InsertAsync(new O2XTables.ProvisioningWatchRow
                {
                    OrderId = watch.OrderId, AccountId = watch.AccountId, RequestId = watch.RequestId, RequestedAt = watch.RequestedAt.UtcDateTime,
                }, token: ct);
        }

        await transaction.CommitAsync(ct);
        return changes.Count;
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
