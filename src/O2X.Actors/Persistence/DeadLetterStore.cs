using System.Text.Json;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using O2X.Actors.Messaging.Outbox;

namespace O2X.Actors.Persistence;

internal enum DeadLetterStatus { Dead, Requeuing, Requeued, Purged, Incident }

/// <summary>A message whose retries are spent (seed §5.3 "DLQ"), with what operators need to repair it.</summary>
internal sealed record DeadLetterRecord(
    long Id,
    string Queue,
    string MessageId,
    string? CorrelationId,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body,
    int Attempts,
    DateTime FirstFailure,
    DateTime LastFailure,
    string ExceptionType,
    string ExceptionMessage,
    DeadLetterStatus Status,
    string? StatusReason,
    int RequeueCount,
    DateTime UpdatedAt);

/// <summary>Which dead letters to list.</summary>
internal sealed record DeadLetterFilter(
    string? Queue = null,
    DeadLetterStatus? Status = null,
    string? Error = null,
    DateTime? From = null,
    DateTime? To = null);

/// <summary>
/// The dead-letter store: one row per (queue, message id) — a message that dies again after a requeue
/// updates its row (keeping its requeue count). Status changes are conditional updates, so two operators
/// requeueing the same message at once cannot both succeed.
/// </summary>
internal sealed class DeadLetterStore(O2XDatabase database)
{
    /// <summary>
    /// Stores the dead letter, forgets its attempt count, and (when <paramref name="forward"/> is given) appends
    /// the copy for the broker's DLQ to the outbox — in one transaction.
    /// </summary>
    public async Task<long> AddAsync(DeadLetterRecord letter, OutboundMessage? forward, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        var table = db.GetTable<O2XTables.DeadLetterRow>();
        var now = DateTime.UtcNow;
        var headers = JsonSerializer.Serialize(letter.Headers);
        var updated = await table.Where(r => r.Queue == letter.Queue && r.MessageId == letter.MessageId)
            .Set(r => r.Attempts, letter.Attempts)
            .Set(r => r.FirstFailure, letter.FirstFailure)
            .Set(r => r.LastFailure, letter.LastFailure)
            .Set(r => r.ExceptionType, DeliveryAttemptStore.Truncate(letter.ExceptionType, 512))
            .Set(r => r.ExceptionMessage, letter.ExceptionMessage)
            .Set(r => r.Body, letter.Body)
            .Set(r => r.Headers, headers)
            .Set(r => r.Status, nameof(DeadLetterStatus.Dead))
            .Set(r => r.StatusReason, (string?)null)
            .Set(r => r.UpdatedAt, now)
            .UpdateAsync(ct);
        if (updated == 0)
        {
            await db.InsertAsync(new O2XTables.DeadLetterRow
            {
                Queue = letter.Queue, MessageId = letter.MessageId, CorrelationId = letter.CorrelationId, Headers = headers, Body = letter.Body,
                Attempts = letter.Attempts, FirstFailure = letter.FirstFailure, LastFailure = letter.LastFailure,
                ExceptionType = DeliveryAttemptStore.Truncate(letter.ExceptionType, 512), ExceptionMessage = letter.ExceptionMessage,
                Status = nameof(DeadLetterStatus.Dead), RequeueCount = 0, UpdatedAt = now,
            }, token: ct);
        }

        await db.GetTable<O2XTables.DeliveryAttemptRow>().Where(r => r.Queue == letter.Queue && r.MessageId == letter.MessageId).DeleteAsync(ct);
        if (forward is not null)
        {
            await database.LockOutboxAsync(db, ct);
            await db.InsertAsync(new O2XTables.OutboxRow
            {
                Destination = forward.Destination, MessageId = forward.MessageId, CorrelationId = forward.CorrelationId, Payload = forward.Payload,
                Headers = JsonSerializer.Serialize(forward.Headers), CreatedAt = now,
            }, token: ct);
        }

        var id = await table.Where(r => r.Queue == letter.Queue && r.MessageId == letter.MessageId).Select(r => r.Id).FirstAsync(ct);
        await transaction.CommitAsync(ct);
        return id;
    }

    public async Task<DeadLetterRecord?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var row = await db.GetTable<O2XTables.DeadLetterRow>().FirstOrDefaultAsync(r => r.Id == id, ct);
        return row is null ? null : ToDeadLetter(row);
    }

    /// <summary>How many letters of each queue are in <paramref name="status"/> now (for the dead-letter gauge).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountByQueueAsync(DeadLetterStatus status, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var name = status.ToString();
        var counts = await db.GetTable<O2XTables.DeadLetterRow>()
            .Where(r => r.Status == name)
            .GroupBy(r => r.Queue)
            .Select(g => new { Queue = g.Key, Count = g.LongCount() })
            .ToListAsync(ct);
        return counts.ToDictionary(c => c.Queue, c => c.Count);
    }

    /// <summary>Matching dead letters with an id after <paramref name="afterId"/>, oldest first.</summary>
    public async Task<IReadOnlyList<DeadLetterRecord>> QueryAsync(DeadLetterFilter filter, long afterId, int limit, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var query = db.GetTable<O2XTables.DeadLetterRow>().Where(r => r.Id > afterId);
        if (filter.Queue is { } queue) query = query.Where(r => r.Queue == queue);
        if (filter.Status is { } status)
        {
            var name = status.ToString();
            query = query.Where(r => r.Status == name);
        }

        if (filter.Error is { } error) query = query.Where(r => r.ExceptionType.Contains(error) || r.ExceptionMessage.Contains(error));
        if (filter.From is { } from) query = query.Where(r => r.LastFailure >= from);
        if (filter.To is { } to) query = query.Where(r => r.LastFailure <= to);
        var rows = await query.OrderBy(r => r.Id).Take(limit).ToListAsync(ct);
        return [.. rows.Select(ToDeadLetter)];
    }

    /// <summary>
    /// Claims a dead (or incident) letter for requeueing; false when it is not in such a state any more
    /// (already requeued by somebody else, or purged).
    /// </summary>
    public async Task<bool> TryBeginRequeueAsync(long id, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var claimed = await db.GetTable<O2XTables.DeadLetterRow>()
            .Where(r => r.Id == id && (r.Status == nameof(DeadLetterStatus.Dead) || r.Status == nameof(DeadLetterStatus.Incident)))
            .Set(r => r.Status, nameof(DeadLetterStatus.Requeuing))
            .Set(r => r.UpdatedAt, DateTime.UtcNow)
            .UpdateAsync(ct);
        return claimed == 1;
    }

    public Task CompleteRequeueAsync(long id, CancellationToken ct = default) =>
        UpdateAsync(id, nameof(DeadLetterStatus.Requeuing), nameof(DeadLetterStatus.Requeued), null, increment: true, ct);

    /// <summary>The requeue could not be handed to the queue: the letter is dead again, nothing lost.</summary>
    public Task AbortRequeueAsync(long id, string reason, CancellationToken ct = default) =>
        UpdateAsync(id, nameof(DeadLetterStatus.Requeuing), nameof(DeadLetterStatus.Dead), reason, increment: false, ct);

    /// <summary>Removes a letter from the work list for good, keeping it (and why) for audit.</summary>
    public async Task<bool> PurgeAsync(long id, string reason, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await db.GetTable<O2XTables.DeadLetterRow>()
            .Where(r => r.Id == id && r.Status != nameof(DeadLetterStatus.Purged) && r.Status != nameof(DeadLetterStatus.Requeuing))
            .Set(r => r.Status, nameof(DeadLetterStatus.Purged))
            .Set(r => r.StatusReason, reason)
            .Set(r => r.UpdatedAt, DateTime.UtcNow)
            .UpdateAsync(ct) == 1;
    }

    public Task MarkIncidentAsync(long id, string reason, CancellationToken ct = default) =>
        UpdateAsync(id, nameof(DeadLetterStatus.Dead), nameof(DeadLetterStatus.Incident), reason, increment: false, ct);

    /// <summary>Letters left in REQUEUING (the node died between claiming and handing over) for longer than <paramref name="age"/>.</summary>
    public async Task<IReadOnlyList<long>> StaleRequeuesAsync(TimeSpan age, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var before = DateTime.UtcNow - age;
        return await db.GetTable<O2XTables.DeadLetterRow>()
            .Where(r => r.Status == nameof(DeadLetterStatus.Requeuing) && r.UpdatedAt < before)
            .Select(r => r.Id).ToListAsync(ct);
    }

    /// <summary>Gives a stale REQUEUING letter back to DEAD so it can be claimed again.</summary>
    public Task ReleaseStaleRequeueAsync(long id, CancellationToken ct = default) =>
        UpdateAsync(id, nameof(DeadLetterStatus.Requeuing), nameof(DeadLetterStatus.Dead), "requeue interrupted", increment: false, ct);

    private async Task UpdateAsync(long id, string from, string to, string? reason, bool increment, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var update = db.GetTable<O2XTables.DeadLetterRow>().Where(r => r.Id == id && r.Status == from)
            .Set(r => r.Status, to)
            .Set(r => r.StatusReason, reason)
            .Set(r => r.UpdatedAt, DateTime.UtcNow);
        if (increment) update = update.Set(r => r.RequeueCount, r => r.RequeueCount + 1);
        await update.UpdateAsync(ct);
    }

    private static DeadLetterRecord ToDeadLetter(O2XTables.DeadLetterRow r) => new(
        r.Id, r.Queue, r.MessageId, r.CorrelationId,
        JsonSerializer.Deserialize<Dictionary<string, string>>(r.Headers) ?? [],
        r.Body, r.Attempts, DeliveryAttemptStore.Utc(r.FirstFailure), DeliveryAttemptStore.Utc(r.LastFailure), r.ExceptionType, r.ExceptionMessage,
        Enum.Parse<DeadLetterStatus>(r.Status), r.StatusReason, r.RequeueCount, DeliveryAttemptStore.Utc(r.UpdatedAt));
}
