namespace O2X.Actors.Messaging;

/// <summary>
/// The transport-neutral view of one inbound message: what every handler sees, whether the message
/// came over HTTP, AMQP 0-9-1, AMQP 1.0 or Kafka.
/// </summary>
/// <param name="MessageId">Stable id of the message; redeliveries carry the same id (dedupe key).</param>
/// <param name="Queue">The O2X queue (binding) the message arrived on, e.g. <c>OMS</c>.</param>
/// <param name="CorrelationId">Correlation id from the transport headers, when the producer set one.</param>
/// <param name="Headers">Transport headers as strings (never contains credentials).</param>
/// <param name="Body">The raw message bytes, exactly as received.</param>
/// <param name="DeliveryCount">1 on first delivery; higher when the transport redelivered it.</param>
/// <param name="ReceivedAt">When this node received the message.</param>
public sealed record MessageEnvelope(
    string MessageId,
    string Queue,
    string? CorrelationId,
    IReadOnlyDictionary<string, string> Headers,
    ReadOnlyMemory<byte> Body,
    int DeliveryCount,
    DateTimeOffset ReceivedAt)
{
    public static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();
}
