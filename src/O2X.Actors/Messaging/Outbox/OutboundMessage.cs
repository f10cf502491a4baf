namespace O2X.Actors.Messaging.Outbox;

/// <summary>
/// A message O2X sends out, derived from one persisted event. <see cref="MessageId"/> is built from the
/// event's persistence id and sequence number, so it is the same however often the event is projected:
/// consumers can deduplicate on it.
/// </summary>
internal sealed record OutboundMessage(
    string Destination,
    string MessageId,
    string? CorrelationId,
    string Payload,
    IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>
    /// <see cref="Headers"/> as the outbox stores them (a JSON object), serialized once per message. The journal's inline projection
    /// asks for it when it maps the event, so the journal's single writer does not serialize inside its transaction. Kept beside the
    /// message, not in it: the record's equality and <c>with</c> copies see only its five values.
    /// </summary>
    public string HeadersJson => HeadersJsonCache.GetValue(this, static m => System.Text.Json.JsonSerializer.Serialize(m.Headers));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<OutboundMessage, string> HeadersJsonCache = new();
}
