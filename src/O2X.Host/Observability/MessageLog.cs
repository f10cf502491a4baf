using O2X.Streams.Messaging;

namespace O2X.Host.Observability;

/// <summary>
/// One structured log line per settled message, with <c>MessageId</c>, <c>CorrelationId</c>, <c>Queue</c>,
/// <c>Outcome</c> and <c>ElapsedMs</c> as properties (as JSON fields with <c>Logging:Console:FormatterName=json</c>):
/// Debug for processed and duplicates, Warning for refusals, dead letters and messages given back to the transport.
/// Bodies are never logged (they may hold personal data).
/// </summary>
public sealed class MessageLog(ILogger<MessageLog> logger) : IHandlingObserver
{
    public void Started(MessageEnvelope envelope)
    {
    }

    public void Completed(MessageEnvelope envelope, HandlingOutcome outcome, TimeSpan elapsed)
    {
        var label = O2XMetrics.OutcomeLabel(outcome);
        var ms = Math.Round(elapsed.TotalMilliseconds, 1);
        switch (outcome)
        {
            case HandlingOutcome.Rejected r:
                logger.LogWarning("Message {MessageId} (correlation {CorrelationId}) on {Queue}: {Outcome} {ErrorCode}: {Error} after {ElapsedMs} ms",
                    envelope.MessageId, envelope.CorrelationId, envelope.Queue, label, r.ErrorCode, r.ErrorMessage, ms);
                break;
            case HandlingOutcome.DeadLettered d:
                logger.LogWarning(
                    "Message {MessageId} (correlation {CorrelationId}) on {Queue}: {Outcome} as #{DeadLetterId} after {Attempts} attempts, {ExceptionType}: {Error}",
                    envelope.MessageId, envelope.CorrelationId, envelope.Queue, label, d.DeadLetterId, d.Attempts, d.ExceptionType, d.ErrorMessage);
                break;
            case HandlingOutcome.Failed f:
                logger.LogWarning("Message {MessageId} (correlation {CorrelationId}) on {Queue}: {Outcome}, left to the transport: {ExceptionType}: {Error}",
                    envelope.MessageId, envelope.CorrelationId, envelope.Queue, label, f.ExceptionType, f.ErrorMessage);
                break;
            default:
                if (logger.IsEnabled(LogLevel.Debug))
                    logger.LogDebug("Message {MessageId} (correlation {CorrelationId}) on {Queue}: {Outcome} in {ElapsedMs} ms",
                        envelope.MessageId, envelope.CorrelationId, envelope.Queue, label, ms);
                break;
        }
    }
}

/// <summary>Several observers as one.</summary>
public sealed class Observers(params IHandlingObserver[] observers) : IHandlingObserver
{
    public void Started(MessageEnvelope envelope)
    {
        foreach (var observer in observers) observer.Started(envelope);
    }

    public void Completed(MessageEnvelope envelope, HandlingOutcome outcome, TimeSpan elapsed)
    {
        foreach (var observer in observers) observer.Completed(envelope, outcome, elapsed);
    }
}
