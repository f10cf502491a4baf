namespace O2X.Host.Hosting;

/// <summary>The rating trigger (<c>O2X:Rating</c>, seed §4.2 step 8).</summary>
internal sealed class RatingOptions
{
    public const string Section = "O2X:Rating";

    /// <summary>Run the trigger (one per cluster, a singleton on an ingest node).</summary>
    public bool TriggerEnabled { get; set; } = true;

    /// <summary>How often UNRATED usage is looked for and queued as USAGE batches (seed: hourly).</summary>
    public TimeSpan TriggerInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Record ids per USAGE batch at most (seed §6.4: up to 10,000).</summary>
    public int BatchSize { get; set; } = 10_000;

    public IEnumerable<string> Validate()
    {
        if (TriggerInterval < TimeSpan.FromSeconds(1) || TriggerInterval > TimeSpan.FromDays(1))
            yield return $"{Section}:TriggerInterval must be between 00:00:01 and 1.00:00:00 (was {TriggerInterval}).";
        if (BatchSize is < 1 or > Actors.Usage.UsageRater.MaxIds)
            yield return $"{Section}:BatchSize must be between 1 and {Actors.Usage.UsageRater.MaxIds} (was {BatchSize}).";
    }
}
