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
        await db.ExecuteAsync("CREATE UNIQUE INDEX IF NOT EXISTS ux_o2x_outbox_message ON o2x_outbox (destination, message_id)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_outbox_destination ON o2x_outbox (destination, position)", ct);
        await db.ExecuteAsync("CREATE UNIQUE INDEX IF NOT EXISTS ux_o2x_dead_letter_message ON o2x_dead_letter (queue, message_id)", ct);
        await db.ExecuteAsync("CREATE INDEX IF NOT EXISTS ix_o2x_dead_letter_status ON o2x_dead_letter (status, id)", ct);
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
}
