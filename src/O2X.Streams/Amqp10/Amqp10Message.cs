namespace O2X.Streams.Amqp10;

/// <summary>A message as consumed from, or to be published to, an AMQP 1.0 broker.</summary>
/// <param name="DeliveryCount">How often the broker delivered it before (0 the first time).</param>
public sealed record Amqp10Message(
    ReadOnlyMemory<byte> Body,
    string? MessageId = null,
    string? CorrelationId = null,
    IReadOnlyDictionary<string, string>? Properties = null,
    uint DeliveryCount = 0);
