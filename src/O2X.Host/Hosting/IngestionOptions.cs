namespace O2X.Host.Hosting;

/// <summary>HTTP ingestion limits (<c>O2X:Ingestion</c>).</summary>
internal sealed class IngestionOptions
{
    public const string Section = "O2X:Ingestion";

    /// <summary>Messages a queue accepts ahead of its handler; beyond it requests get 503 + Retry-After.</summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Messages handled at once per queue (different accounts/orders; one key is always sequential).</summary>
    public int Parallelism { get; set; } = 64;

    /// <summary>Largest accepted message body (seed §10.1: keep messages under 1 MB).</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a request waits for the effect to be persisted before answering 503.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The Retry-After value sent with 503 answers.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    public IEnumerable<string> Validate()
    {
        if (QueueCapacity < 1) yield return $"{Section}:QueueCapacity must be at least 1 (was {QueueCapacity}).";
        if (Parallelism < 1) yield return $"{Section}:Parallelism must be at least 1 (was {Parallelism}).";
        if (MaxMessageBytes is < 1024 or > 64 * 1024 * 1024)
            yield return $"{Section}:MaxMessageBytes must be between 1024 and 67108864 (was {MaxMessageBytes}).";
        if (ResponseTimeout < TimeSpan.FromSeconds(1)) yield return $"{Section}:ResponseTimeout must be at least 00:00:01 (was {ResponseTimeout}).";
        if (RetryAfterSeconds < 1) yield return $"{Section}:RetryAfterSeconds must be at least 1 (was {RetryAfterSeconds}).";
    }
}
