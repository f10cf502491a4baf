using System.Text;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using O2X.Actors.Persistence;

namespace O2X.Actors.Usage;

internal enum MediationStatus { Running, Completed, Failed }

/// <summary>A mediation job as the API shows it.</summary>
internal sealed record MediationJob(
    string JobId, string FileName, string FileLocation, string Vendor, string VendorFormat, string ServiceType, string Status,
    long RowsRead, long Stored, long Rejected, long Duplicates, DateTime StartedAt, DateTime? FinishedAt, string? Error);

internal sealed record UsageRejection(long RowNumber, string Reason, string Raw);

/// <summary>
/// Usage records, mediation jobs and refused rows (linq2db, in the node's database). Records are inserted 1,000 per
/// transaction with <c>ON CONFLICT (dedup_key) DO NOTHING</c> — one multi-row statement on PostgreSQL, a prepared
/// single-row statement per record on SQLite (see <see cref="StoreOneByOneAsync"/>): a CDR already
/// stored — from this file, an earlier file or an interrupted run of the same job — is counted as a duplicate and
/// never stored twice.
/// </summary>
internal sealed class UsageStore(O2XDatabase database)
{
    public const int BatchSize = 1000;

    private const string Columns =
        "dedup_key, record_id, service_type, account_id, subscriber, counterparty, started_at, quantity, unit, location, vendor, job_id, status, created_at";

    private const int ColumnCount = 14;
    private static readonly Dictionary<int, string> Statements = new();

    /// <summary>Starts (or restarts, after a crash) the job; returns its state before, null when it is new.</summary>
    public async Task<MediationJob?> BeginAsync(string jobId, string fileName, string location, string vendor, string format, string serviceType,
        CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var existing = await db.GetTable<O2XTables.MediationJobRow>().FirstOrDefaultAsync(j => j.JobId == jobId, ct);
        if (existing is not null && existing.Status == nameof(MediationStatus.Completed)) return ToJob(existing);

        var row = new O2XTables.MediationJobRow
        {
            JobId = jobId, FileName = fileName, FileLocation = location, Vendor = vendor, VendorFormat = format, ServiceType = serviceType,
            Status = nameof(MediationStatus.Running), StartedAt = DateTime.UtcNow,
        };
        if (existing is null) await db.InsertAsync(row, token: ct);
        else await db.UpdateAsync(row, token: ct); // a rerun counts afresh; what the first run stored now counts as duplicates
        await db.GetTable<O2XTables.UsageRejectionRow>().Where(r => r.JobId == jobId).DeleteAsync(ct);
        return existing is null ? null : ToJob(existing);
    }

    /// <summary>Stores the records not stored before, in one transaction; returns how many were new.</summary>
    public async Task<int> StoreAsync(string jobId, IReadOnlyList<UsageRecord> records, CancellationToken ct)
    {
        if (records.Count == 0) return 0;
        await using var db = await database.OpenAsync(ct);
        var now = DateTime.UtcNow;
        if (database.Provider == Hosting.PersistenceProvider.Sqlite) return await StoreOneByOneAsync(db, jobId, records, now, ct);
        var parameters = new DataParameter[records.Count * ColumnCount];
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            var o = i * ColumnCount;
            parameters[o] = new DataParameter("p" + o, r.DedupKey, DataType.NVarChar);
            parameters[o + 1] = new DataParameter("p" + (o + 1), r.RecordId, DataType.NVarChar);
            parameters[o + 2] = new DataParameter("p" + (o + 2), r.ServiceType, DataType.NVarChar);
            parameters[o + 3] = new DataParameter("p" + (o + 3), r.AccountId, DataType.NVarChar);
            parameters[o + 4] = new DataParameter("p" + (o + 4), r.Subscriber, DataType.NVarChar);
            parameters[o + 5] = new DataParameter("p" + (o + 5), r.Counterparty, DataType.NVarChar);
            parameters[o + 6] = new DataParameter("p" + (o + 6), r.StartedAt, DataType.DateTime2);
            parameters[o + 7] = new DataParameter("p" + (o + 7), r.Quantity, DataType.Int64);
            parameters[o + 8] = new DataParameter("p" + (o + 8), r.Unit, DataType.NVarChar);
            parameters[o + 9] = new DataParameter("p" + (o + 9), r.Location, DataType.NVarChar);
            parameters[o + 10] = new DataParameter("p" + (o + 10), r.Vendor, DataType.NVarChar);
            parameters[o + 11] = new DataParameter("p" + (o + 11), jobId, DataType.NVarChar);
            parameters[o + 12] = new DataParameter("p" + (o + 12), "UNRATED", DataType.NVarChar);
            parameters[o + 13] = new DataParameter("p" + (o + 13), now, DataType.DateTime2);
        }

        return await db.ExecuteAsync(Statement(records.Count), ct, parameters);
    }

    /// <summary>
    /// SQLite: one prepared single-row INSERT executed per record inside one transaction. Microsoft.Data.Sqlite binds
    /// parameters by name one at a time, so a 14,000-parameter multi-row statement took ~2 s; this takes milliseconds.
    /// </summary>
    private static async Task<int> StoreOneByOneAsync(DataConnection db, string jobId, IReadOnlyList<UsageRecord> records, DateTime now, CancellationToken ct)
    {
        await using var transaction = await db.BeginTransactionAsync(ct);
        var connection = await db.OpenDbConnectionAsync(ct);
        await using var insert = connection.CreateCommand();
        insert.Transaction = db.Transaction;
        insert.CommandText = $"INSERT INTO o2x_usage_record ({Columns}) VALUES (@p0,@p1,@p2,@p3,@p4,@p5,@p6,@p7,@p8,@p9,@p10,@p11,@p12,@p13) " +
                             "ON CONFLICT (dedup_key) DO NOTHING";
        var p = Enumerable.Range(0, ColumnCount).Select(c => insert.AddParameter("@p" + c)).ToArray();

        p[11].Value = jobId;
        p[12].Value = "UNRATED";
        p[13].Value = now;
        await insert.PrepareAsync(ct);
        var added = 0;
        foreach (var r in records)
        {
            p[0].Value = r.DedupKey;
            p[1].Value = r.RecordId;
            p[2].Value = r.ServiceType;
            p[3].Value = r.AccountId;
            p[4].Value = (object?)r.Subscriber ?? DBNull.Value;
            p[5].Value = (object?)r.Counterparty ?? DBNull.Value;
            p[6].Value = r.StartedAt;
            p[7].Value = r.Quantity;
            p[8].Value = r.Unit;
            p[9].Value = (object?)r.Location ?? DBNull.Value;
            p[10].Value = r.Vendor;
            added += await insert.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return added;
    }

    public async Task RejectAsync(string jobId, IReadOnlyList<ParsedRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return;
        await using var db = await database.OpenAsync(ct);
        await db.BulkCopyAsync(new BulkCopyOptions { BulkCopyType = BulkCopyType.MultipleRows }, rows.Select(r => new O2XTables.UsageRejectionRow
        {
            JobId = jobId, RowNumber = r.RowNumber, Reason = Truncate(r.Error ?? "invalid row", 512), Raw = Truncate(r.Raw, 4000),
        }), ct);
    }

    public async Task ProgressAsync(string jobId, long read, long stored, long rejected, long duplicates, MediationStatus status, string? error,
        CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        await db.GetTable<O2XTables.MediationJobRow>().Where(j => j.JobId == jobId)
            .Set(j => j.RowsRead, read).Set(j => j.Stored, stored).Set(j => j.Rejected, rejected).Set(j => j.Duplicates, duplicates)
            .Set(j => j.Status, status.ToString())
            .Set(j => j.Error, error)
            .Set(j => j.FinishedAt, status == MediationStatus.Running ? null : DateTime.UtcNow)
            .UpdateAsync(ct);
    }

    public async Task<MediationJob?> GetAsync(string jobId, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var row = await db.GetTable<O2XTables.MediationJobRow>().FirstOrDefaultAsync(j => j.JobId == jobId, ct);
        return row is null ? null : ToJob(row);
    }

    /// <summary>The most recently started jobs first.</summary>
    public async Task<IReadOnlyList<MediationJob>> RecentAsync(int limit, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return (await db.GetTable<O2XTables.MediationJobRow>().OrderByDescending(j => j.StartedAt).Take(limit).ToListAsync(ct)).Select(ToJob).ToList();
    }

    public async Task<IReadOnlyList<UsageRejection>> RejectionsAsync(string jobId, long afterRow, int limit, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await db.GetTable<O2XTables.UsageRejectionRow>().Where(r => r.JobId == jobId && r.RowNumber > afterRow).OrderBy(r => r.RowNumber).Take(limit)
            .Select(r => new UsageRejection(r.RowNumber, r.Reason, r.Raw)).ToListAsync(ct);
    }

    /// <summary>Stored usage records, per status (for tests and the console).</summary>
    public async Task<long> CountAsync(string status, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await db.GetTable<O2XTables.UsageRecordRow>().LongCountAsync(r => r.Status == status, ct);
    }

    private static string Statement(int rows)
    {
        lock (Statements)
        {
            if (Statements.TryGetValue(rows, out var cached)) return cached;
            var sql = new StringBuilder("INSERT INTO o2x_usage_record (").Append(Columns).Append(") VALUES ");
            for (var i = 0; i < rows; i++)
            {
                if (i > 0) sql.Append(',');
                sql.Append('(');
                for (var c = 0; c < ColumnCount; c++)
                {
                    if (c > 0) sql.Append(',');
                    sql.Append("@p").Append(i * ColumnCount + c);
                }

                sql.Append(')');
            }

            var statement = sql.Append(" ON CONFLICT (dedup_key) DO NOTHING").ToString();
            if (Statements.Count < 16) Statements[rows] = statement;
            return statement;
        }
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    private static MediationJob ToJob(O2XTables.MediationJobRow r) => new(r.JobId, r.FileName, r.FileLocation, r.Vendor, r.VendorFormat, r.ServiceType,
        r.Status.ToUpperInvariant(), r.RowsRead, r.Stored, r.Rejected, r.Duplicates, DateTime.SpecifyKind(r.StartedAt, DateTimeKind.Utc),
        r.FinishedAt is { } f ? DateTime.SpecifyKind(f, DateTimeKind.Utc) : null, r.Error);
}
