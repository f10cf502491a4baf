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

    public IEnumerable<string> Validate()
    {
        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(1))
            yield return $"{Section}:PollInterval must be between 00:00:00.01 and 00:01:00 (was {PollInterval}).";
        if (BatchSize is < 1 or > 10_000) yield return $"{Section}:BatchSize must be between 1 and 10000 (was {BatchSize}).";
    }
}
