using System.Globalization;
using System.Security.Cryptography;
using O2X.Streams.Amqp;
using O2X.Streams.Amqp10;
using O2X.Streams.Kafka;
using O2X.Streams.Stomp;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// Turns what each transport delivers into the transport-neutral <see cref="MessageEnvelope"/>. The message id
/// is what the producer set (AMQP <c>message-id</c> property, or a <c>message_id</c> / <c>messageId</c> header);
/// when it set none, a stable id is derived, so that a redelivery carries the same id and is deduplicated:
/// AMQP: <c>sha256:</c> + the SHA-256 of the body; Kafka: <c>topic-partition@offset</c>.
/// </summary>
internal static class TransportEnvelopes
{
    /// <summary>Header marking an envelope whose body was cut to the binding's size limit; the value is the original size.</summary>
    public const string OversizeHeader = "x-o2x-oversize";

    private static readonly string[] IdHeaders = ["message_id", "messageId", "message-id", "MessageId"];
    private static readonly string[] CorrelationHeaders = ["correlation_id", "correlationId", "correlation-id", "CorrelationId"];

    public static MessageEnvelope FromAmqp(string queue, AmqpMessage message, int maxBytes)
    {
        var headers = message.Headers ?? MessageEnvelope.NoHeaders;
        // Quorum queues count deliveries (x-delivery-count = earlier attempts); classic queues only flag a redelivery.
        var deliveryCount = headers.TryGetValue("x-delivery-count", out var count) && int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n + 1
            : message.Redelivered ? 2 : 1;
        return Build(queue, message.MessageId ?? FromHeaders(headers, IdHeaders) ?? ContentId(message.Body.Span),
            message.CorrelationId ?? FromHeaders(headers, CorrelationHeaders), headers, message.Body, deliveryCount, maxBytes);
    }

    public static MessageEnvelope FromAmqp10(string queue, Amqp10Message message, int maxBytes)
    {
        var headers = message.Properties ?? MessageEnvelope.NoHeaders;
        return Build(queue, message.MessageId ?? FromHeaders(headers, IdHeaders) ?? ContentId(message.Body.Span),
            message.CorrelationId ?? FromHeaders(headers, CorrelationHeaders), headers, message.Body, (int)Math.Min(int.MaxValue, message.DeliveryCount + 1L),
            maxBytes);
    }

    /// <summary>
    /// STOMP (ActiveMQ): the producer's <c>message_id</c> header, else the broker's <c>message-id</c> (the JMSMessageID, the same on
    /// every redelivery, also across a failover to the standby). ActiveMQ counts no deliveries: <c>redelivered</c> means at least 2.
    /// </summary>
    public static MessageEnvelope FromStomp(string queue, StompMessage message, int maxBytes)
    {
        var headers = message.Headers ?? MessageEnvelope.NoHeaders;
        // A body too large for the connection to hold was skipped (StompFrameCodec): refused like any oversized message.
        if (headers.TryGetValue(StompFrameCodec.OversizeHeader, out var skipped))
            headers = new Dictionary<string, string>(headers) { [OversizeHeader] = skipped };
        return Build(queue, FromHeaders(headers, IdHeaders) ?? message.MessageId ?? ContentId(message.Body.Span),
            message.CorrelationId ?? FromHeaders(headers, CorrelationHeaders), headers, message.Body, message.Redelivered ? 2 : 1, maxBytes);
    }

    public static MessageEnvelope FromKafka(string queue, KafkaRecord record, int maxBytes)
    {
        var headers = record.Headers ?? MessageEnvelope.NoHeaders;
        return Build(queue, FromHeaders(headers, IdHeaders) ?? record.Position, FromHeaders(headers, CorrelationHeaders), headers, record.Value, 1, maxBytes);
    }

    /// <summary><c>sha256:</c> + hex SHA-256 of the body: the same bytes always get the same id.</summary>
    public static string ContentId(ReadOnlySpan<byte> body) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));

    private static MessageEnvelope Build(string queue, string messageId, string? correlationId, IReadOnlyDictionary<string, string> headers,
        ReadOnlyMemory<byte> body, int deliveryCount, int maxBytes)
    {
        if (body.Length > maxBytes)
        {
            // Kept (cut) for the error queue; the size guard refuses it before any handler sees it.
            headers = new Dictionary<string, string>(headers) { [OversizeHeader] = body.Length.ToString(CultureInfo.InvariantCulture) };
            body = body[..maxBytes];
        }

        return new MessageEnvelope(messageId, queue, correlationId, headers, body, Math.Max(1, deliveryCount), DateTimeOffset.UtcNow);
    }

    private static string? FromHeaders(IReadOnlyDictionary<string, string> headers, string[] names)
    {
        foreach (var name in names)
            if (headers.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value))
                return value;
        return null;
    }
}

/// <summary>
/// Refuses messages over the binding's size limit (seed §10.1) before the handler sees them:
/// <c>INVALID_MESSAGE</c> to the error queue on first sight, so an oversized message never loops.
/// </summary>
internal sealed class MessageSizeGuard(IMessageHandler inner, int maxBytes) : IMessageHandler
{
    public const string InvalidMessage = "INVALID_MESSAGE";

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        if (envelope.Headers.TryGetValue(TransportEnvelopes.OversizeHeader, out var size) || envelope.Body.Length > maxBytes)
            throw new NonRetryableException(InvalidMessage,
                $"The message is {size ?? envelope.Body.Length.ToString(CultureInfo.InvariantCulture)} bytes; at most {maxBytes} are accepted " +
                "(seed §10.1: send large data by reference). Its first bytes are kept in the error record.");
        return inner.Plan(envelope);
    }
}
