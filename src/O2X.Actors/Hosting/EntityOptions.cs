namespace O2X.Actors.Hosting;

/// <summary>How orders and accounts are sharded (<c>O2X:Entities</c>).</summary>
internal sealed class EntityOptions
{
    public const string Section = "O2X:Entities";

    /// <summary>Shards per entity type; keep it ~10× the largest expected node count and never change it on a live cluster.</summary>
    public int NumberOfShards { get; set; } = 100;

    /// <summary>
    /// An entity idle this long is stopped (its state stays in the journal). Live entities are what a node's memory holds
    /// and what the garbage collector scans: at 600 orders/s a 2-minute window kept ~2 GiB resident and p99 latency grew to
    /// 420 ms. With 30 s a node at 2,500 orders/s held ~25,000 idle accounts (600-650 MiB); 5 s held ~390 MiB and
    /// shortened every GC pause (docs/benchmarks.md, nineteenth pass). A later message recovers the entity from its
    /// snapshot and events, so a shorter window means more recoveries.
    /// </summary>
    public TimeSpan PassivateIdleAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The same for orders. An order is busy when it is placed and again when provisioning, cancellation or billing reach
    /// it; in between it is state the garbage collector scans, and a node keeps one order entity per order of the window.
    /// At 1,400 orders/s 5 s instead of 30 s held ~550 instead of ~1,000 MiB and cut the p99 by half (docs/benchmarks.md,
    /// sixth pass). Orders recover more often with it; a recovery right after a PostgreSQL restart, which once failed on a
    /// stale pooled connection, now opens a fresh one (<c>PostgresDataSources.RetryingLostConnectionAsync</c>).
    /// </summary>
    public TimeSpan OrderPassivateIdleAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a handler waits for an entity to answer before treating it as a transient failure.</summary>
    public TimeSpan AskTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An entity that crashed (e.g. its recovery failed because the journal was down) is started again after this long.</summary>
    public TimeSpan RestartBackoff { get; set; } = TimeSpan.FromSeconds(3);

    public IEnumerable<string> Validate()
    {
        if (RestartBackoff < TimeSpan.FromMilliseconds(100) || RestartBackoff > TimeSpan.FromMinutes(5))
            yield return $"{Section}:RestartBackoff must be between 00:00:00.1 and 00:05:00 (was {RestartBackoff}).";
        if (NumberOfShards is < 1 or > 10_000)
            yield return $"{Section}:NumberOfShards must be between 1 and 10000 (was {NumberOfShards}).";
        if (PassivateIdleAfter < TimeSpan.FromSeconds(1))
            yield return $"{Section}:PassivateIdleAfter must be at least 00:00:01 (was {PassivateIdleAfter}).";
        if (OrderPassivateIdleAfter < TimeSpan.FromSeconds(1))
            yield return $"{Section}:OrderPassivateIdleAfter must be at least 00:00:01 (was {OrderPassivateIdleAfter}).";
        if (AskTimeout < TimeSpan.FromMilliseconds(100))
            yield return $"{Section}:AskTimeout must be at least 00:00:00.1 (was {AskTimeout}).";
    }
}
