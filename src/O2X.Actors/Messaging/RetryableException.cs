namespace O2X.Actors.Messaging;

/// <summary>
/// A transient failure (seed §5.1): a timeout, the database or broker unavailable, an input that has not arrived yet.
/// The message is retried with backoff.
/// </summary>
public sealed class RetryableException : Exception
{
    /// <param name="dependencyFailure">
    /// Whether a dependency (database, broker, file store) failed — what a binding's circuit breaker counts. False for a
    /// message waiting for something of its own (a file not there yet): many of those say nothing about the dependencies.
    /// </param>
    public RetryableException(string message, Exception? inner = null, bool dependencyFailure = true) : base(message, inner) =>
        IsDependencyFailure = dependencyFailure;

    public bool IsDependencyFailure { get; }
}
