using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// Turns what a handler threw into an outcome (seed §5.1): NonRetryable → rejected (with its code); an
/// exception the binding's <see cref="ExceptionPolicy"/> does not retry → rejected as <c>HANDLER_ERROR</c>;
/// anything else → failed (to be retried).
/// </summary>
internal static class OutcomeClassifier
{
    public static HandlingOutcome FromException(Exception exception, ExceptionPolicy? policy = null)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate) return FromException(aggregate.InnerExceptions[0], policy);
        if (exception is NonRetryableException nr) return new HandlingOutcome.Rejected(nr.ErrorCode, nr.Message);
        if (!(policy ?? ExceptionPolicy.Default).IsRetryable(exception))
            return new HandlingOutcome.Rejected(ExceptionPolicy.HandlerErrorCode, $"{exception.GetType().FullName}: {exception.Message}");
        return new HandlingOutcome.Failed(exception.GetType().FullName ?? exception.GetType().Name, exception.Message);
    }

    /// <summary>
    /// A handler's planning (reading and checking the message, no I/O) is deterministic: whatever it throws would be thrown
    /// again on every redelivery, so it is a refusal — never a failure left to the transport to redeliver forever.
    /// </summary>
    public static HandlingOutcome.Rejected FromPlanningException(Exception exception) =>
        exception switch
        {
            AggregateException { InnerExceptions.Count: 1 } aggregate => FromPlanningException(aggregate.InnerExceptions[0]),
            NonRetryableException nr => new HandlingOutcome.Rejected(nr.ErrorCode, nr.Message),
            _ => new HandlingOutcome.Rejected(ExceptionPolicy.HandlerErrorCode, $"{exception.GetType().FullName}: {exception.Message}"),
        };
}
