using System.Text;

namespace O2X.Actors.Messaging;

/// <summary>
/// The inbound message an event came from, kept verbatim with the event: the OMS_ARCHIVE copy and the
/// <c>originalMessage</c> of an error envelope are derived from it, so they exist exactly when the event does.
/// A message carrying a payment card number is never kept: its body is replaced by <see cref="CardData.Placeholder"/>.
/// </summary>
/// <param name="Body">The message text; Base64 when the bytes were not valid UTF-8 (<paramref name="BodyIsBase64"/>).</param>
internal sealed record IntakeRecord(string MessageId, string Queue, string? CorrelationId, string Body, bool BodyIsBase64, DateTimeOffset ReceivedAt)
{
    public static IntakeRecord From(O2X.Actors.Messaging.MessageEnvelope envelope, string? correlationId = null)
    {
        var body = envelope.Body.Span;
        var utf8 = System.Text.Unicode.Utf8.IsValid(body);
        string text;
        if (CardData.Find(envelope) is { } path) (text, utf8) = (CardData.Placeholder(body, path), true);
        else text = utf8 ? Encoding.UTF8.GetString(body) : Convert.ToBase64String(body);
        return new IntakeRecord(envelope.MessageId, envelope.Queue, correlationId ?? envelope.CorrelationId, text, !utf8, envelope.ReceivedAt);
    }
}

/// <summary>An event caused by an inbound message it carries verbatim.</summary>
internal interface IHasIntake
{
    IntakeRecord Intake { get; }
}
