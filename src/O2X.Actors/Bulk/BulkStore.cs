using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using O2X.Actors.Accounts;
using O2X.Actors.Persistence;

namespace O2X.Actors.Bulk;

/// <summary>What a bulk job is: its id, operation and total size (over all its messages).</summary>
internal sealed record BulkJobDefinition(string JobId, BulkApiName Api, int TotalCount, string? CreatedBy, DateTimeOffset? CreatedDate, string? CallbackUrl);

internal enum BulkItemStatus { Succeeded, Failed }

/// <summary>One item's outcome; failures carry the error code and reason.</summary>
internal sealed record BulkItemResult(int Index, string? AccountId, BulkItemStatus Status, string? ErrorCode, string? Reason, DateTime FinishedAt);

/// <summary>
/// A job's <c>bulk_action_stats</c> (seed §4.3 step 7): success and failure counts and the completed percentage, counted
/// from the recorded items, so they are right however often a message was delivered. RUNNING until every item has an
/// outcome, then COMPLETED (with or without failures).
/// </summary>
internal sealed record BulkJobStats(
    string JobId,
    BulkApiName ApiName,
    int TotalCount,
    int SuccessCount,
    int FailureCount,
    decimal CompletedPercent,
    string Status,
    string? CreatedBy,
    DateTime? CreatedDate,
    string? CallbackUrl,
    DateTime SubmittedAt,
    DateTime? LastItemAt);

/// <summary>Bulk jobs and their items' outcomes (linq2db, in the node's database). An item's outcome is recorded once.</summary>
internal sealed class BulkStore(O2XDatabase database)
{
    public enum Registration { New, Existing, Conflict }

    /// <summary>Records the job unless it exists; a different job under the same id is a conflict.</summary>
    public async Task<(Registration Result, BulkJobStats? Existing)> RegisterAsync(BulkJobDefinition job, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var inserted = await db.ExecuteAsync(
            "INSERT INTO o2x_bulk_job (job_id, api_name, total_count, created_by, created_date, callback_url, submitted_at) " +
            "VALUES (@job, @api, @total, @by, @date, @callback, @now) ON CONFLICT (job_id) DO NOTHING", ct,
            new DataParameter("job", job.JobId, DataType.NVarChar),
            new DataParameter("api", BulkApiNames.WireName(job.Api), DataType.NVarChar),
            new DataParameter("total", job.TotalCount, DataType.Int32),
            new DataParameter("by", job.CreatedBy, DataType.NVarChar),
            new DataParameter("date", job.CreatedDate?.UtcDateTime, DataType.DateTime2),
            new DataParameter("callback", job.CallbackUrl, DataType.NVarChar),
            new DataParameter("now", DateTime.UtcNow, DataType.DateTime2));
        if (inserted == 1) return (Registration.New, null);
        var existing = await StatsAsync(db, job.JobId, ct) ?? throw new InvalidOperationException($"Bulk job {job.JobId} vanished while registering.");
        return existing.ApiName == job.Api && existing.TotalCount == job.TotalCount ? (Registration.Existing, existing) : (Registration.Conflict, existing);
    }

    /// <summary>The indexes in [<paramref name="from"/>, <paramref name="to"/>) that already have an outcome.</summary>
    public async Task<HashSet<int>> RecordedAsync(string jobId, int from, int to, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        return (await db.GetTable<O2XTables.BulkItemRow>().Where(i => i.JobId == jobId && i.ItemIndex >= from && i.ItemIndex < to)
            .Select(i => i.ItemIndex).ToListAsync(ct)).ToHashSet();
    }

    /// <summary>Records items' outcomes in one transaction; an outcome already recorded is kept.</summary>
    public async Task RecordAsync(string jobId, IReadOnlyCollection<BulkItemResult> items, CancellationToken ct)
    {
        if (items.Count == 0) return;
        await using var db = await database.OpenAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        foreach (var item in items)
        {
            await db.ExecuteAsync(
                "INSERT INTO o2x_bulk_item (job_id, item_index, account_id, status, error_code, reason, finished_at) " +
                "VALUES (@job, @index, @account, @status, @code, @reason, @at) ON CONFLICT (job_id, item_index) DO NOTHING", ct,
                new DataParameter("job", jobId, DataType.NVarChar),
                new DataParameter("index", item.Index, DataType.Int32),
                new DataParameter("account", item.AccountId, DataType.NVarChar),
                new DataParameter("status", item.Status.ToString().ToUpperInvariant(), DataType.NVarChar),
                new DataParameter("code", item.ErrorCode, DataType.NVarChar),
                new DataParameter("reason", item.Reason is { Length: > 1024 } r ? r[..1024] : item.Reason, DataType.NVarChar),
                new DataParameter("at", item.FinishedAt, DataType.DateTime2));
        }

        await transaction.CommitAsync(ct);
    }

    public async Task<BulkJobStats?> StatsAsync(string jobId, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await StatsAsync(db, jobId, ct);
    }

    /// <summary>The most recently submitted jobs first (two queries, whatever the number of jobs).</summary>
    public async Task<IReadOnlyList<BulkJobStats>> RecentAsync(int limit, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var jobs = await db.GetTable<O2XTables.BulkJobRow>().OrderByDescending(j => j.SubmittedAt).ThenByDescending(j => j.JobId).Take(limit)
            .ToListAsync(ct);
        var ids = jobs.Select(j => j.JobId).ToList();
        var counts = (await Counts(db.GetTable<O2XTables.BulkItemRow>().Where(i => ids.Contains(i.JobId))).ToListAsync(ct)).ToLookup(c => c.JobId);
        return jobs.Select(j => ToStats(j, counts[j.JobId])).ToList();
    }

    /// <summary>A page of item outcomes by index, optionally only one status.</summary>
    public async Task<IReadOnlyList<BulkItemResult>> ItemsAsync(string jobId, BulkItemStatus? status, int after, int limit, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var query = db.GetTable<O2XTables.BulkItemRow>().Where(i => i.JobId == jobId && i.ItemIndex > after);
        if (status is { } s)
        {
            var name = s.ToString().ToUpperInvariant();
            query = query.Where(i => i.Status == name);
        }

        return (await query.OrderBy(i => i.ItemIndex).Take(limit).ToListAsync(ct))
            .Select(i => new BulkItemResult(i.ItemIndex, i.AccountId, Enum.Parse<BulkItemStatus>(i.Status, ignoreCase: true), i.ErrorCode, i.Reason,
                DateTime.SpecifyKind(i.FinishedAt, DateTimeKind.Utc)))
            .ToList();
    }

    private sealed class StatusCount
    {
        public string JobId { get; init; } = "";
        public string Status { get; init; } = "";
        public int Count { get; init; }
        public DateTime Last { get; init; }
    }

    /// <summary>Outcomes per job and status, with the latest finish time.</summary>
    private static IQueryable<StatusCount> Counts(IQueryable<O2XTables.BulkItemRow> items) =>
        items.GroupBy(i => new { i.JobId, i.Status })
            .Select(g => new StatusCount { JobId = g.Key.JobId, Status = g.Key.Status, Count = g.Count(), Last = g.Max(i => i.FinishedAt) });

    private static async Task<BulkJobStats?> StatsAsync(DataConnection db, string jobId, CancellationToken ct)
    {
        var job = await db.GetTable<O2XTables.BulkJobRow>().FirstOrDefaultAsync(j => j.JobId == jobId, ct);
        return job is null ? null : ToStats(job, await Counts(db.GetTable<O2XTables.BulkItemRow>().Where(i => i.JobId == jobId)).ToListAsync(ct));
    }

    private static BulkJobStats ToStats(O2XTables.BulkJobRow job, IEnumerable<StatusCount> statusCounts)
    {
        var counts = statusCounts.ToList();
        var success = counts.Where(c => c.Status == "SUCCEEDED").Sum(c => c.Count);
        var failure = counts.Where(c => c.Status == "FAILED").Sum(c => c.Count);
        var done = success + failure;
        DateTime? last = counts.Count == 0 ? null : DateTime.SpecifyKind(counts.Max(c => c.Last), DateTimeKind.Utc);
        BulkApiNames.TryParse(job.ApiName, out var api);
        return new BulkJobStats(job.JobId, api, job.TotalCount, success, failure,
            job.TotalCount == 0 ? 100m : Math.Round(100m * done / job.TotalCount, 1, MidpointRounding.ToZero),
            done >= job.TotalCount ? "COMPLETED" : "RUNNING",
            job.CreatedBy, job.CreatedDate is { } d ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : null, job.CallbackUrl,
            DateTime.SpecifyKind(job.SubmittedAt, DateTimeKind.Utc), last);
    }
}
