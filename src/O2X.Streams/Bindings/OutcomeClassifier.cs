using O2X.Streams.Messaging;

namespace O2X.Streams.Bindings;

/// <summary>
/// Turns what a handler threw into an outcome (seed §5.1): NonRetryable → rejected (with its code); an
/// exception the binding's <see cref="ExceptionPolicy"/> does not retry → rejected as <c>HANDLER_ERROR</c>;
/// anything else → failed (to be retried).
/// </summary>
public static class OutcomeClassifier
{
    public static HandlingOutcome FromException(Exception exception, ExceptionPolicy? policy = null)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate) return FromException(aggregate.InnerExceptions[0], policy);
        if (exception is NonRetryableException nr) return new HandlingOutcome.Rejected(nr.ErrorCode, nr.Message);
        if (!(policy ?? ExceptionPolicy.Default).IsRetryable(exception))
            return new HandlingOutcome.Rejected(ExceptionPolicy.HandlerErrorCode, $"{exception.GetType().FullName}: {exception.Message}");
        return new HandlingOutcome.Failed(exception.GetType().FullName ?? exception.GetType().Name, exception.Message);
    }
}
