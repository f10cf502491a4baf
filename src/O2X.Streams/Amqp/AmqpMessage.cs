namespace O2X.Streams.Amqp;

/// <summary>A message as consumed from, or to be published to, an AMQP 0-9-1 broker.</summary>
/// <param name="Redelivered">The broker delivered it before (it was not acknowledged then).</param>
public sealed record AmqpMessage(
    ReadOnlyMemory<byte> Body,
    string? MessageId = null,
    string? CorrelationId = null,
    IReadOnlyDictionary<string, string>? Headers = null,
    string? ContentType = null,
    bool Redelivered = false,
    string? Exchange = null,
    string? RoutingKey = null);
