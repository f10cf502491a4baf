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
    private string? _headersJson;

    /// <summary>
    /// <see cref="Headers"/> as the outbox stores them (a JSON object), serialized once. The journal's inline projection asks for it
    /// when it maps the event, so the journal's single writer does not serialize inside its transaction.
    /// </summary>
    public string HeadersJson => _headersJson ??= System.Text.Json.JsonSerializer.Serialize(Headers);
}
