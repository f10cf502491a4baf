namespace O2X.Actors.Hosting;

/// <summary>The outbox projection (<c>O2X:Outbox</c>): persisted events → outbound messages.</summary>
internal sealed class OutboxOptions
{
    public const string Section = "O2X:Outbox";

    /// <summary>Run the projection (one instance per cluster, a singleton). Off only for diagnosis.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Write outbound messages in the journal's own transaction, beside the events they derive from (O2X's journal only).
    /// Off: every such event is tagged and the projection reads it back and writes its messages in a second transaction
    /// (what Akka.Persistence.Sql's journal always gets). On by default on both stores; on PostgreSQL it was off until the
    /// journal writer put the outbox's statements in the same round trip as the events' (measured then: 3,659–3,938 against
    /// 3,074–3,332 orders/s, docs/benchmarks.md). Unset (or empty): on.
    /// </summary>
    public bool? InJournal { get; set; }

    /// <summary>Whether the outbox is written in the journal's transaction (<see cref="InJournal"/>, on unless set to false).</summary>
    public bool InJournalEnabled => InJournal ?? true;

    /// <summary>
    /// How long the projection waits, once it has caught up with the journal (an empty or partial batch), before it reads
    /// again: the longest an outbound message waits for the projection, and what lets a busy node's events go into the
    /// outbox a full batch per transaction.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Events per outbox transaction at most. Small enough that the projection never holds SQLite's single
    /// write lock for long (measured: 500 events per transaction stalled order intake for up to a second).
    /// </summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// How long outbound messages stay in the outbox: older ones are deleted, those of a broker-bound destination only once its
    /// relay has published them. A destination read over HTTP (<c>GET /api/outbox/{destination}</c>) has no reader the node
    /// knows of, so its messages go by age alone: a reader further behind than this misses them. <c>00:00:00</c>: keep
    /// everything (the outbox then grows with every message; ~2.4 KB per order on SQLite).
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the outbox's retention runs (a cluster singleton) and deletes what has expired since.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether messages are ever deleted (<see cref="Retention"/> above zero).</summary>
    public bool RetentionEnabled => Retention > TimeSpan.Zero;

    public IEnumerable<string> Validate()
    {
        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(1))
            yield return $"{Section}:PollInterval must be between 00:00:00.01 and 00:01:00 (was {PollInterval}).";
        if (BatchSize is < 1 or > 10_000) yield return $"{Section}:BatchSize must be between 1 and 10000 (was {BatchSize}).";
        if (Retention != TimeSpan.Zero && (Retention < TimeSpan.FromMinutes(1) || Retention > TimeSpan.FromDays(3650)))
            yield return $"{Section}:Retention must be 00:00:00 (keep everything) or between 00:01:00 and 3650.00:00:00 (was {Retention}).";
        if (RetentionInterval < TimeSpan.FromSeconds(1) || RetentionInterval > TimeSpan.FromHours(1))
            yield return $"{Section}:RetentionInterval must be between 00:00:01 and 01:00:00 (was {RetentionInterval}).";
    }
}
