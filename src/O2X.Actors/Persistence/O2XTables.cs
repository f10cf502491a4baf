using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace O2X.Actors.Persistence;

/// <summary>O2X's own tables, beside the journal in the same database (one backup covers everything).</summary>
internal static class O2XTables
{
    public static async Task CreateAsync(DataConnection db, CancellationToken ct)
    {
        await db.CreateTableAsync<OutboxRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<OffsetRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<DeliveryAttemptRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<DeadLetterRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<UsageRecordRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<MediationJobRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<UsageRejectionRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<UsageAccumulatorRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<PricePlanVersionRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<BulkJobRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<BulkItemRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<OrderNumberRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.ExecuteAsync("CREATE UNIQUE INDEX IF NOT EXISTS ux_o2x_order_number_day ON o2x_order_number (day, number)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_bulk_job_submitted ON o2x_bulk_job (submitted_at)", ct);
        await db.ExecuteAsync("CREATE UNIQUE INDEX IF NOT EXISTS ux_o2x_usage_record_dedup ON o2x_usage_record (dedup_key)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_usage_record_status ON o2x_usage_record (status, account_id)", ct);
        await db.ExecuteAsync("CREATE UNIQUE INDEX IF NOT EXISTS ux_o2x_outbox_message ON o2x_outbox (destination, message_id)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_outbox_destination ON o2x_outbox (destination, position)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_outbox_correlation ON o2x_outbox (correlation_id)", ct);
        await db.ExecuteAsync("CREATE UNIQUE INDEX IF NOT EXISTS ux_o2x_dead_letter_message ON o2x_dead_letter (queue, message_id)", ct);
        // Billing (monthly bill run): columns added to usage records after their table existed.
        await AddColumnAsync(db, "o2x_usage_record", "rated_bands", "VARCHAR(512)", ct);
        await AddColumnAsync(db, "o2x_usage_record", "invoice_number", "VARCHAR(200)", ct);
        await db.CreateTableAsync<BillRunRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<BillRunAccountRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<CycleInvoiceRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.CreateTableAsync<PlanDiscountRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await AddColumnAsync(db, "o2x_bill_run", "unknown_accounts", "INTEGER", ct);
        await AddColumnAsync(db, "o2x_bill_run", "unknown_usage", "INTEGER", ct);
        await db.ExecuteAsync("CREATE UNIQUE INDEX IF NOT EXISTS ux_o2x_cycle_invoice_number ON o2x_cycle_invoice (invoice_number)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_cycle_invoice_unrecorded ON o2x_cycle_invoice (recorded_at)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_bill_run_period ON o2x_bill_run (period, started_at)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_dead_letter_status ON o2x_dead_letter (status, id)", ct);
        await db.CreateTableAsync<ProvisioningWatchRow>(tableOptions: TableOptions.CreateIfNotExists, token: ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_provisioning_watch_due ON o2x_provisioning_watch (stuck_at, requested_at)", ct);
    }

    /// <summary>Adds a column an older database lacks (SQLite has no <c>ADD COLUMN IF NOT EXISTS</c>).</summary>
    private static async Task AddColumnAsync(DataConnection db, string table, string column, string type, CancellationToken ct)
    {
        var sqlite = db.DataProvider.Name.Contains("SQLite", StringComparison.OrdinalIgnoreCase);
        if (!sqlite)
        {
            await db.ExecuteAsync($"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type}", ct);
            return;
        }

        var exists = await db.ExecuteAsync<long>($"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{column}'", ct);
        if (exists == 0) await db.ExecuteAsync($"ALTER TABLE {table} ADD COLUMN {column} {type}", ct);
    }

    [Table("o2x_outbox")]
    internal sealed class OutboxRow
    {
        [Column("position"), PrimaryKey, Identity] public long Position { get; set; }
        [Column("destination", Length = 128), NotNull] public string Destination { get; set; } = "";
        [Column("message_id", Length = 256), NotNull] public string MessageId { get; set; } = "";
        [Column("correlation_id", Length = 256), Nullable] public string? CorrelationId { get; set; }
        [Column("payload", DataType = DataType.Text), NotNull] public string Payload { get; set; } = "";
        [Column("headers", DataType = DataType.Text), NotNull] public string Headers { get; set; } = "{}";
        [Column("created_at"), NotNull] public DateTime CreatedAt { get; set; }
    }

    [Table("o2x_projection_offset")]
    internal sealed class OffsetRow
    {
        [Column("name", Length = 128), PrimaryKey, NotNull] public string Name { get; set; } = "";
        [Column("position"), NotNull] public long Position { get; set; }
        [Column("updated_at"), NotNull] public DateTime UpdatedAt { get; set; }
    }

    /// <summary>Failed attempts of a message still being retried, per queue and message id (cluster-wide).</summary>
    [Table("o2x_delivery_attempt")]
    internal sealed class DeliveryAttemptRow
    {
        [Column("queue", Length = 128), PrimaryKey(0), NotNull] public string Queue { get; set; } = "";
        [Column("message_id", Length = 256), PrimaryKey(1), NotNull] public string MessageId { get; set; } = "";
        [Column("attempts"), NotNull] public int Attempts { get; set; }
        [Column("first_failure"), NotNull] public DateTime FirstFailure { get; set; }
        [Column("last_failure"), NotNull] public DateTime LastFailure { get; set; }
        [Column("exception_type", Length = 512), NotNull] public string ExceptionType { get; set; } = "";
        [Column("error", DataType = DataType.Text), NotNull] public string Error { get; set; } = "";
    }

    /// <summary>A message whose retries are spent, kept with everything needed to repair and requeue it.</summary>
    [Table("o2x_dead_letter")]
    internal sealed class DeadLetterRow
    {
        [Column("id"), PrimaryKey, Identity] public long Id { get; set; }
        [Column("queue", Length = 128), NotNull] public string Queue { get; set; } = "";
        [Column("message_id", Length = 256), NotNull] public string MessageId { get; set; } = "";
        [Column("correlation_id", Length = 256), Nullable] public string? CorrelationId { get; set; }
        [Column("headers", DataType = DataType.Text), NotNull] public string Headers { get; set; } = "{}";
        [Column("body", DataType = DataType.VarBinary), NotNull] public byte[] Body { get; set; } = [];
        [Column("attempts"), NotNull] public int Attempts { get; set; }
        [Column("first_failure"), NotNull] public DateTime FirstFailure { get; set; }
        [Column("last_failure"), NotNull] public DateTime LastFailure { get; set; }
        [Column("exception_type", Length = 512), NotNull] public string ExceptionType { get; set; } = "";
        [Column("exception_message", DataType = DataType.Text), NotNull] public string ExceptionMessage { get; set; } = "";
        [Column("status", Length = 16), NotNull] public string Status { get; set; } = "";
        [Column("status_reason", DataType = DataType.Text), Nullable] public string? StatusReason { get; set; }
        [Column("requeue_count"), NotNull] public int RequeueCount { get; set; }
        [Column("updated_at"), NotNull] public DateTime UpdatedAt { get; set; }
    }

    /// <summary>A canonical usage record (seed §4.2 step 6: core_usage.usage_record), UNRATED until rated.</summary>
    [Table("o2x_usage_record")]
    internal sealed class UsageRecordRow
    {
        [Column("id"), PrimaryKey, Identity] public long Id { get; set; }
        [Column("dedup_key", Length = 300), NotNull] public string DedupKey { get; set; } = "";
        [Column("record_id", Length = 128), NotNull] public string RecordId { get; set; } = "";
        [Column("service_type", Length = 16), NotNull] public string ServiceType { get; set; } = "";
        [Column("account_id", Length = 128), NotNull] public string AccountId { get; set; } = "";
        [Column("subscriber", Length = 64), Nullable] public string? Subscriber { get; set; }
        [Column("counterparty", Length = 64), Nullable] public string? Counterparty { get; set; }
        [Column("started_at"), NotNull] public DateTime StartedAt { get; set; }
        [Column("quantity"), NotNull] public long Quantity { get; set; }
        [Column("unit", Length = 16), NotNull] public string Unit { get; set; } = "";
        [Column("location", Length = 64), Nullable] public string? Location { get; set; }
        [Column("vendor", Length = 64), NotNull] public string Vendor { get; set; } = "";
        [Column("job_id", Length = 256), NotNull] public string JobId { get; set; } = "";
        [Column("status", Length = 16), NotNull] public string Status { get; set; } = "";
        [Column("rated_amount"), Nullable] public decimal? RatedAmount { get; set; }
        [Column("plan_id", Length = 64), Nullable] public string? PlanId { get; set; }
        [Column("rated_units"), Nullable] public long? RatedUnits { get; set; }
        [Column("rated_at"), Nullable] public DateTime? RatedAt { get; set; }
        [Column("created_at"), NotNull] public DateTime CreatedAt { get; set; }
        /// <summary>How the rated units fell into the plan's bands (<see cref="Usage.Rating.ParseBands"/>).</summary>
        [Column("rated_bands", Length = 512), Nullable] public string? RatedBands { get; set; }
        /// <summary>The cycle invoice that billed the record (status BILLED).</summary>
        [Column("invoice_number", Length = 200), Nullable] public string? InvoiceNumber { get; set; }
    }

    /// <summary>One MEDIATION message's work on one file (job id = the message id).</summary>
    [Table("o2x_mediation_job")]
    internal sealed class MediationJobRow
    {
        [Column("job_id", Length = 256), PrimaryKey, NotNull] public string JobId { get; set; } = "";
        [Column("file_name", Length = 512), NotNull] public string FileName { get; set; } = "";
        [Column("file_location", Length = 2048), NotNull] public string FileLocation { get; set; } = "";
        [Column("vendor", Length = 64), NotNull] public string Vendor { get; set; } = "";
        [Column("vendor_format", Length = 64), NotNull] public string VendorFormat { get; set; } = "";
        [Column("service_type", Length = 16), NotNull] public string ServiceType { get; set; } = "";
        [Column("status", Length = 16), NotNull] public string Status { get; set; } = "";
        [Column("rows_read"), NotNull] public long RowsRead { get; set; }
        [Column("stored"), NotNull] public long Stored { get; set; }
        [Column("rejected"), NotNull] public long Rejected { get; set; }
        [Column("duplicates"), NotNull] public long Duplicates { get; set; }
        [Column("started_at"), NotNull] public DateTime StartedAt { get; set; }
        [Column("finished_at"), Nullable] public DateTime? FinishedAt { get; set; }
        [Column("error", DataType = DataType.Text), Nullable] public string? Error { get; set; }
    }

    /// <summary>A CDR row refused by mediation, kept with its reason.</summary>
    [Table("o2x_usage_rejection")]
    internal sealed class UsageRejectionRow
    {
        [Column("job_id", Length = 256), PrimaryKey(0), NotNull] public string JobId { get; set; } = "";
        [Column("row_number"), PrimaryKey(1), NotNull] public long RowNumber { get; set; }
        [Column("reason", Length = 512), NotNull] public string Reason { get; set; } = "";
        [Column("raw", DataType = DataType.Text), NotNull] public string Raw { get; set; } = "";
    }

    /// <summary>An account's rated usage of one service in one month (yyyy-MM, by the usage's start time, UTC).</summary>
    [Table("o2x_usage_accumulator")]
    internal sealed class UsageAccumulatorRow
    {
        [Column("account_id", Length = 128), PrimaryKey(0), NotNull] public string AccountId { get; set; } = "";
        [Column("month", Length = 7), PrimaryKey(1), NotNull] public string Month { get; set; } = "";
        [Column("service_type", Length = 16), PrimaryKey(2), NotNull] public string ServiceType { get; set; } = "";
        [Column("used_units"), NotNull] public long UsedUnits { get; set; }
        [Column("amount"), NotNull] public decimal Amount { get; set; }
        [Column("records"), NotNull] public long Records { get; set; }
    }

    /// <summary>A rating plan as of a date (price-sync): the version in force for usage from <see cref="EffectiveFrom"/> on.</summary>
    [Table("o2x_price_plan_version")]
    internal sealed class PricePlanVersionRow
    {
        [Column("plan_id", Length = 64), PrimaryKey(0), NotNull] public string PlanId { get; set; } = "";
        [Column("effective_from"), PrimaryKey(1), NotNull] public DateTime EffectiveFrom { get; set; }
        [Column("retired"), NotNull] public bool Retired { get; set; }
        [Column("service_type", Length = 16), NotNull] public string ServiceType { get; set; } = "";
        [Column("unit_name", Length = 16), NotNull] public string UnitName { get; set; } = "";
        [Column("unit_size"), NotNull] public long UnitSize { get; set; }
        [Column("included_units"), NotNull] public long IncludedUnits { get; set; }
        [Column("bands", DataType = DataType.Text), NotNull] public string Bands { get; set; } = "[]";
        [Column("sync_id", Length = 256), NotNull] public string SyncId { get; set; } = "";
    }

    /// <summary>A bulk job (seed §4.3 step 2): its operation and size, known from its first message.</summary>
    [Table("o2x_bulk_job")]
    internal sealed class BulkJobRow
    {
        [Column("job_id", Length = 128), PrimaryKey, NotNull] public string JobId { get; set; } = "";
        [Column("api_name", Length = 64), NotNull] public string ApiName { get; set; } = "";
        [Column("total_count"), NotNull] public int TotalCount { get; set; }
        [Column("created_by", Length = 256), Nullable] public string? CreatedBy { get; set; }
        [Column("created_date"), Nullable] public DateTime? CreatedDate { get; set; }
        [Column("callback_url", Length = 2048), Nullable] public string? CallbackUrl { get; set; }
        [Column("submitted_at"), NotNull] public DateTime SubmittedAt { get; set; }
    }

    /// <summary>One bulk item's outcome (seed §4.3 step 7, bulk_action_stats are counted from these): recorded once.</summary>
    [Table("o2x_bulk_item")]
    internal sealed class BulkItemRow
    {
        [Column("job_id", Length = 128), PrimaryKey(0), NotNull] public string JobId { get; set; } = "";
        [Column("item_index"), PrimaryKey(1), NotNull] public int ItemIndex { get; set; }
        [Column("account_id", Length = 128), Nullable] public string? AccountId { get; set; }
        [Column("status", Length = 16), NotNull] public string Status { get; set; } = "";
        [Column("error_code", Length = 64), Nullable] public string? ErrorCode { get; set; }
        [Column("reason", Length = 1024), Nullable] public string? Reason { get; set; }
        [Column("finished_at"), NotNull] public DateTime FinishedAt { get; set; }
    }

    /// <summary>
    /// Which business order (correlation id, or message id) got which number of its day: the order-number allocator's
    /// memory, so that it holds none (a day's ids grow without bound). A key keeps its number; a number has one key.
    /// </summary>
    [Table("o2x_order_number")]
    internal sealed class OrderNumberRow
    {
        [Column("day", Length = 8), PrimaryKey(0), NotNull] public string Day { get; set; } = "";
        [Column("order_key", Length = 256), PrimaryKey(1), NotNull] public string OrderKey { get; set; } = "";
        [Column("number"), NotNull] public int Number { get; set; }
    }

    /// <summary>A bill run: one period (yyyy-MM), all accounts or one; its counts grow as it goes.</summary>
    [Table("o2x_bill_run")]
    internal sealed class BillRunRow
    {
        [Column("run_id", Length = 128), PrimaryKey, NotNull] public string RunId { get; set; } = "";
        [Column("period", Length = 7), NotNull] public string Period { get; set; } = "";
        [Column("account_id", Length = 128), Nullable] public string? AccountId { get; set; }
        [Column("trigger", Length = 16), NotNull] public string Trigger { get; set; } = "";
        [Column("status", Length = 16), NotNull] public string Status { get; set; } = "";
        [Column("accounts"), NotNull] public int Accounts { get; set; }
        [Column("invoiced"), NotNull] public int Invoiced { get; set; }
        [Column("already_billed"), NotNull] public int AlreadyBilled { get; set; }
        [Column("nothing_to_bill"), NotNull] public int NothingToBill { get; set; }
        [Column("not_ended"), NotNull] public int NotEnded { get; set; }
        [Column("failed"), NotNull] public int Failed { get; set; }
        [Column("amount", DataType = DataType.Decimal, Precision = 28, Scale = 4), NotNull] public decimal Amount { get; set; }
        [Column("started_at"), NotNull] public DateTime StartedAt { get; set; }
        [Column("finished_at"), Nullable] public DateTime? FinishedAt { get; set; }
        [Column("error", DataType = DataType.Text), Nullable] public string? Error { get; set; }
        [Column("unknown_accounts"), Nullable] public int? UnknownAccounts { get; set; }
        [Column("unknown_usage"), Nullable] public int? UnknownUsage { get; set; }
    }

    /// <summary>What a bill run did for one account (the console's per-account result).</summary>
    [Table("o2x_bill_run_account")]
    internal sealed class BillRunAccountRow
    {
        [Column("run_id", Length = 128), PrimaryKey(0), NotNull] public string RunId { get; set; } = "";
        [Column("account_id", Length = 128), PrimaryKey(1), NotNull] public string AccountId { get; set; } = "";
        [Column("outcome", Length = 16), NotNull] public string Outcome { get; set; } = "";
        [Column("invoice_number", Length = 200), Nullable] public string? InvoiceNumber { get; set; }
        [Column("amount", DataType = DataType.Decimal, Precision = 28, Scale = 4), Nullable] public decimal? Amount { get; set; }
        [Column("error_code", Length = 64), Nullable] public string? ErrorCode { get; set; }
        [Column("reason", Length = 1024), Nullable] public string? Reason { get; set; }
    }

    /// <summary>
    /// A billing cycle's invoice, written in the transaction that marks its usage BILLED: one per account and period, whatever
    /// reruns and crashes happen. <see cref="RecordedAt"/> is set once the account entity has it too.
    /// </summary>
    [Table("o2x_cycle_invoice")]
    internal sealed class CycleInvoiceRow
    {
        [Column("account_id", Length = 128), PrimaryKey(0), NotNull] public string AccountId { get; set; } = "";
        [Column("period", Length = 7), PrimaryKey(1), NotNull] public string Period { get; set; } = "";
        [Column("invoice_number", Length = 200), NotNull] public string InvoiceNumber { get; set; } = "";
        [Column("run_id", Length = 128), NotNull] public string RunId { get; set; } = "";
        [Column("currency", Length = 3), NotNull] public string Currency { get; set; } = "";
        [Column("total", DataType = DataType.Decimal, Precision = 28, Scale = 4), NotNull] public decimal Total { get; set; }
        [Column("document", DataType = DataType.Text), NotNull] public string Document { get; set; } = "";
        [Column("issued_at"), NotNull] public DateTime IssuedAt { get; set; }
        [Column("recorded_at"), Nullable] public DateTime? RecordedAt { get; set; }
    }

    /// <summary>A discount on a rating plan (price-sync), by plan and discount id.</summary>
    [Table("o2x_plan_discount")]
    internal sealed class PlanDiscountRow
    {
        [Column("plan_id", Length = 64), PrimaryKey(0), NotNull] public string PlanId { get; set; } = "";
        [Column("discount_id", Length = 128), PrimaryKey(1), NotNull] public string DiscountId { get; set; } = "";
        [Column("kind", Length = 16), NotNull] public string Kind { get; set; } = "";
        [Column("value", DataType = DataType.Decimal, Precision = 28, Scale = 4), NotNull] public decimal Value { get; set; }
        [Column("currency", Length = 3), Nullable] public string? Currency { get; set; }
        [Column("effective_from"), NotNull] public DateTime EffectiveFrom { get; set; }
        [Column("effective_to"), Nullable] public DateTime? EffectiveTo { get; set; }
        [Column("description", Length = 256), Nullable] public string? Description { get; set; }
        [Column("removed"), NotNull] public bool Removed { get; set; }
        [Column("sync_id", Length = 256), NotNull] public string SyncId { get; set; } = "";
    }

    /// <summary>An order waiting for its provisioning callback (the provisioning watchdog's projection); STUCK once stuck_at is set.</summary>
    [Table("o2x_provisioning_watch")]
    internal sealed class ProvisioningWatchRow
    {
        [Column("order_id", Length = 128), PrimaryKey, NotNull] public string OrderId { get; set; } = "";
        [Column("account_id", Length = 128), NotNull] public string AccountId { get; set; } = "";
        [Column("request_id", Length = 200), NotNull] public string RequestId { get; set; } = "";
        [Column("requested_at"), NotNull] public DateTime RequestedAt { get; set; }
        [Column("stuck_at"), Nullable] public DateTime? StuckAt { get; set; }
    }
}
