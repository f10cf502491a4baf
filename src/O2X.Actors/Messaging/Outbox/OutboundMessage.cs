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
    IReadOnlyDictionary<string, string> Headers);
