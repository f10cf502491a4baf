namespace O2X.Actors.Messaging;

/// <summary>
/// Sees every message a handling flow takes in and the final outcome it gives it (for metrics). Called on the
/// stream's threads: implementations must be fast, thread-safe and must not throw.
/// </summary>
internal interface IHandlingObserver
{
    void Started(MessageEnvelope envelope);

    /// <summary>The outcome the transport settles by; <paramref name="elapsed"/> from <see cref="Started"/>, retries included.</summary>
    void Completed(MessageEnvelope envelope, HandlingOutcome outcome, TimeSpan elapsed);
}
