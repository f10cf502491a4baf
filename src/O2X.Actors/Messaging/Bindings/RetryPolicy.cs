namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// How often and how soon a message whose handling failed transiently is tried again: exponential backoff
/// with jitter. Defaults are seed §5.2's: first redelivery after 250 ms, ×1.5 each time, at most 60 s apart,
/// 7 redeliveries (8 attempts in all), with collision avoidance (±15% jitter).
/// </summary>
internal sealed record RetryPolicy
{
    public static readonly RetryPolicy Default = new();

    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public double Multiplier { get; init; } = 1.5;

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts after the first; once spent, the message goes to the dead-letter store.</summary>
    public int MaxRedeliveries { get; init; } = 7;

    /// <summary>Each delay is randomly spread by ± this fraction so that failed messages do not all return at once.</summary>
    public double Jitter { get; init; } = 0.15;

    /// <summary>The delay before redelivery <paramref name="redelivery"/> (1-based) without jitter.</summary>
    public TimeSpan NominalDelay(int redelivery)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(redelivery, 1);
        var ms = InitialDelay.TotalMilliseconds * Math.Pow(Multiplier, redelivery - 1);
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }

    /// <summary>The delay before redelivery <paramref name="redelivery"/>, with jitter.</summary>
    public TimeSpan Delay(int redelivery, Random random)
    {
        var factor = 1 + Jitter * (2 * random.NextDouble() - 1);
        return TimeSpan.FromMilliseconds(NominalDelay(redelivery).TotalMilliseconds * factor);
    }

    /// <summary>The longest a message can spend in retries (every delay at its maximum jitter).</summary>
    public TimeSpan WorstCaseTotalDelay() =>
        TimeSpan.FromMilliseconds(Enumerable.Range(1, MaxRedeliveries).Sum(n => NominalDelay(n).TotalMilliseconds) * (1 + Jitter));

    public IEnumerable<string> Validate(string section)
    {
        if (InitialDelay <= TimeSpan.Zero) yield return $"{section}:InitialDelay must be positive (was {InitialDelay}).";
        if (Multiplier < 1) yield return $"{section}:Multiplier must be at least 1 (was {Multiplier}).";
        if (MaxDelay < InitialDelay) yield return $"{section}:MaxDelay must be at least InitialDelay (was {MaxDelay}).";
        if (MaxRedeliveries is < 0 or > 100) yield return $"{section}:MaxRedeliveries must be between 0 and 100 (was {MaxRedeliveries}).";
        if (Jitter is < 0 or >= 1) yield return $"{section}:Jitter must be at least 0 and below 1 (was {Jitter}).";
    }
}
