namespace O2X.Actors.Messaging;

/// <summary>
/// What became of one message. Every outcome except <see cref="Failed"/> means the message is finished
/// with and the transport may acknowledge it.
/// </summary>
public abstract record HandlingOutcome
{
    private HandlingOutcome() { }

    /// <summary>Facts about the effect (e.g. <c>orderId</c>) that a synchronous caller may echo back.</summary>
    public IReadOnlyDictionary<string, string> Facts { get; init; } = NoFacts;

    public static readonly IReadOnlyDictionary<string, string> NoFacts = new Dictionary<string, string>();

    /// <summary>The effect is durably persisted.</summary>
    public sealed record Processed : HandlingOutcome;

    /// <summary>The message (or its correlation id) was seen before; the original effect stands.</summary>
    public sealed record Duplicate : HandlingOutcome;

    /// <summary>A business or format failure (seed §5.1 NonRetryable): never retried, goes to the error queue.</summary>
    public sealed record Rejected(string ErrorCode, string ErrorMessage) : HandlingOutcome;

    /// <summary>A transient failure that was not resolved (seed §5.1 Retryable): not acknowledged, delivered again.</summary>
    public sealed record Failed(string ExceptionType, string ErrorMessage) : HandlingOutcome;

    /// <summary>Retries are spent: the message is safe in the dead-letter store (and may be acknowledged).</summary>
    public sealed record DeadLettered(long DeadLetterId, int Attempts, string ExceptionType, string ErrorMessage) : HandlingOutcome;

    public static Processed ProcessedWith(params (string Key, string Value)[] facts) =>
        new() { Facts = ToFacts(facts) };

    public static Duplicate DuplicateWith(params (string Key, string Value)[] facts) =>
        new() { Facts = ToFacts(facts) };

    private static IReadOnlyDictionary<string, string> ToFacts((string Key, string Value)[] facts) =>
        facts.Length == 0 ? NoFacts : facts.ToDictionary(f => f.Key, f => f.Value);
}
