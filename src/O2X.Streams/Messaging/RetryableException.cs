namespace O2X.Streams.Messaging;

/// <summary>
/// A transient failure (seed §5.1): a timeout, the database or broker unavailable. The message is
/// retried with backoff. Exceptions of other types are treated as retryable too unless a binding says
/// otherwise.
/// </summary>
public sealed class RetryableException : Exception
{
    public RetryableException(string message, Exception? inner = null) : base(message, inner) { }
}
