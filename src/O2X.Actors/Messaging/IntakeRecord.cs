using System.Text;

namespace O2X.Actors.Messaging;

/// <summary>
/// The inbound message an event came from, kept verbatim with the event: the OMS_ARCHIVE copy and the
/// <c>originalMessage</c> of an error envelope are derived from it, so they exist exactly when the event does.
/// </summary>
/// <param name="Body">The message text; Base64 when the bytes were not valid UTF-8 (<paramref name="BodyIsBase64"/>).</param>
public sealed record IntakeRecord(string MessageId, string Queue, string? CorrelationId, string Body, bool BodyIsBase64, DateTimeOffset ReceivedAt)
{
    public static IntakeRecord From(O2X.Streams.Messaging.MessageEnvelope envelope, string? correlationId = null)
    {
        var utf8 = System.Text.Unicode.Utf8.IsValid(envelope.Body.Span);
        return new IntakeRecord(
            envelope.MessageId,
            envelope.Queue,
            correlationId ?? envelope.CorrelationId,
            utf8 ? Encoding.UTF8.GetString(envelope.Body.Span) : Convert.ToBase64String(envelope.Body.Span),
            !utf8,
            envelope.ReceivedAt);
    }
}

/// <summary>An event caused by an inbound message it carries verbatim.</summary>
public interface IHasIntake
{
    IntakeRecord Intake { get; }
}
