using O2X.Streams.Messaging;

namespace O2X.Streams.Bindings;

/// <summary>Turns what a handler threw into an outcome (seed §5.1): NonRetryable → rejected, anything else → failed.</summary>
public static class OutcomeClassifier
{
    public static HandlingOutcome FromException(Exception exception) => exception switch
    {
        NonRetryableException nr => new HandlingOutcome.Rejected(nr.ErrorCode, nr.Message),
        AggregateException { InnerExceptions.Count: 1 } agg => FromException(agg.InnerExceptions[0]),
        _ => new HandlingOutcome.Failed(exception.GetType().FullName ?? exception.GetType().Name, exception.Message),
    };
}
