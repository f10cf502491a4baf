namespace O2X.Streams.Connectors;

/// <summary>Delays between reconnection attempts: exponential from <c>Min</c> to <c>Max</c>, with ±20% jitter.</summary>
public sealed record ReconnectBackoff(TimeSpan Min, TimeSpan Max)
{
    public static readonly ReconnectBackoff Default = new(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30));

    public TimeSpan Delay(int attempt)
    {
        var ms = Math.Min(Max.TotalMilliseconds, Min.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1)));
        return TimeSpan.FromMilliseconds(ms * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }
}
