using System.Text.Json;
using Akka.Actor;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Rejections;

/// <summary>
/// The error queue of a binding, backed by the sharded <see cref="RejectionLogActor"/>: the rejection is
/// persisted before the source message is acknowledged, and the outbox projection turns it into the
/// error envelope on <see cref="ErrorDestination"/> (seed §5.3).
/// </summary>
internal sealed class RejectionLogErrorQueue : IErrorQueue
{
    public const int Buckets = 32;

    private readonly IActorRef _logs;
    private readonly TimeSpan _timeout;

    public RejectionLogErrorQueue(IActorRef logs, string errorDestination, TimeSpan timeout)
    {
        _logs = logs;
        ErrorDestination = errorDestination;
        _timeout = timeout;
    }

    public string ErrorDestination { get; }

    public async Task RecordAsync(MessageEnvelope envelope, HandlingOutcome.Rejected rejection, CancellationToken cancellation)
    {
        var intake = IntakeRecord.From(envelope, envelope.CorrelationId ?? CorrelationIdIn(envelope.Body));
        // The error text goes to the error queue and the archive: one line, bounded (it may quote the sender's values).
        var record = new RecordRejection(LogIdOf(envelope.Queue, envelope.MessageId), intake, ErrorDestination, rejection.ErrorCode,
            TextExcerpt.Of(rejection.ErrorMessage, 1024));
        await EntityAsk.CommandAsync(_logs, record, _timeout, cancellation).ConfigureAwait(false);
    }

    /// <summary>A stable (process-independent) bucket: FNV-1a of the message id.</summary>
    public static string LogIdOf(string queue, string messageId)
    {
        var hash = 2166136261u;
        foreach (var c in messageId)
        {
            hash ^= c;
            hash *= 16777619u;
        }

        return $"{queue}-{hash % Buckets}";
    }

    /// <summary>Best effort: a refused message may still be JSON with a <c>correlation_id</c> worth keeping.</summary>
    private static string? CorrelationIdIn(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("correlation_id", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
