using O2X.Actors.Messaging;

namespace O2X.Host.Observability;

/// <summary>
/// One structured log line per settled message, with <c>MessageId</c>, <c>CorrelationId</c>, <c>Queue</c>,
/// <c>Outcome</c> and <c>ElapsedMs</c> as properties (as JSON fields with <c>Logging:Console:FormatterName=json</c>):
/// Debug for processed and duplicates, Warning for refusals, dead letters and messages given back to the transport.
/// Bodies are never logged (they may hold personal data); ids and error texts come from senders, so they are logged
/// as short excerpts on one line (<see cref="TextExcerpt"/>): a value can neither flood the log nor forge a line.
/// </summary>
internal sealed class MessageLog(ILogger<MessageLog> logger) : IHandlingObserver
{
    /// <summary>Longest error text in a line.</summary>
    private const int ErrorChars = 300;

    public void Started(MessageEnvelope envelope)
    {
    }

    public void Completed(MessageEnvelope envelope, HandlingOutcome outcome, TimeSpan elapsed)
    {
        var label = O2XMetrics.OutcomeLabel(outcome);
        var ms = Math.Round(elapsed.TotalMilliseconds, 1);
        var id = TextExcerpt.Of(envelope.MessageId, 128);
        var correlation = TextExcerpt.Of(envelope.CorrelationId, 128);
        switch (outcome)
        {
            case HandlingOutcome.Rejected r:
                logger.LogWarning("Message {MessageId} (correlation {CorrelationId}) on {Queue}: {Outcome} {ErrorCode}: {Error} after {ElapsedMs} ms",
                    id, correlation, envelope.Queue, label, r.ErrorCode, TextExcerpt.Of(r.ErrorMessage, ErrorChars), ms);
                break;
            case HandlingOutcome.DeadLettered d:
                logger.LogWarning(
                    "Message {MessageId} (correlation {CorrelationId}) on {Queue}: {Outcome} as #{DeadLetterId} after {Attempts} attempts, {ExceptionType}: {Error}",
                    id, correlation, envelope.Queue, label, d.DeadLetterId, d.Attempts, d.ExceptionType, TextExcerpt.Of(d.ErrorMessage, ErrorChars));
                break;
            case HandlingOutcome.Failed f:
                logger.LogWarning("Message {MessageId} (correlation {CorrelationId}) on {Queue}: {Outcome}, left to the transport: {ExceptionType}: {Error}",
                    id, correlation, envelope.Queue, label, f.ExceptionType, TextExcerpt.Of(f.ErrorMessage, ErrorChars));
                break;
            default:
                if (logger.IsEnabled(LogLevel.Debug))
                    logger.LogDebug("Message {MessageId} (correlation {CorrelationId}) on {Queue}: {Outcome} in {ElapsedMs} ms",
                        id, correlation, envelope.Queue, label, ms);
                break;
        }
    }
}

/// <summary>Several observers as one.</summary>
internal sealed class Observers(params IHandlingObserver[] observers) : IHandlingObserver
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
