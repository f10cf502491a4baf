using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;

namespace O2X.Actors.Persistence;

/// <summary>Failed attempts of one message so far, across every node and delivery.</summary>
internal sealed record AttemptRecord(int Attempts, DateTime FirstFailure, DateTime LastFailure);

/// <summary>
/// Counts failed attempts per message in the database, so the retry budget is per message and not per
/// process: a node that crashes between attempts, or a broker redelivering the message to another node,
/// continues the count instead of starting again. Only the failure path touches it.
/// </summary>
internal sealed class DeliveryAttemptStore(O2XDatabase database)
{
    /// <summary>Adds a failed attempt and returns the message's count so far (1 for its first failure).</summary>
    public async Task<AttemptRecord> RecordFailureAsync(string queue, string messageId, string exceptionType, string error, DateTime at,
        CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        var table = db.GetTable<O2XTables.DeliveryAttemptRow>();
        var updated = await table.Where(r => r.Queue == queue && r.MessageId == messageId)
            .Set(r => r.Attempts, r => r.Attempts + 1)
            .Set(r => r.LastFailure, at)
            .Set(r => r.ExceptionType, Truncate(exceptionType, 512))
            .Set(r => r.Error, error)
            .UpdateAsync(ct);
        if (updated == 0)
        {
            await db.InsertAsync(new O2XTables.DeliveryAttemptRow
            {
                Queue = queue, MessageId = messageId, Attempts = 1, FirstFailure = at, LastFailure = at,
                ExceptionType = Truncate(exceptionType, 512), Error = error,
            }, token: ct);
        }

        var row = await table.FirstAsync(r => r.Queue == queue && r.MessageId == messageId, ct);
        await transaction.CommitAsync(ct);
        return new AttemptRecord(row.Attempts, Utc(row.FirstFailure), Utc(row.LastFailure));
    }

    public async Task<AttemptRecord?> GetAsync(string queue, string messageId, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var row = await db.GetTable<O2XTables.DeliveryAttemptRow>().FirstOrDefaultAsync(r => r.Queue == queue && r.MessageId == messageId, ct);
        return row is null ? null : new AttemptRecord(row.Attempts, Utc(row.FirstFailure), Utc(row.LastFailure));
    }

    /// <summary>Forgets the attempts (the message succeeded, or an operator requeued it with a fresh budget).</summary>
    public async Task ResetAsync(string queue, string messageId, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        await db.GetTable<O2XTables.DeliveryAttemptRow>().Where(r => r.Queue == queue && r.MessageId == messageId).DeleteAsync(ct);
    }

    internal static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    internal static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
