using O2X.Streams.Amqp;
using O2X.Streams.Amqp10;
using O2X.Streams.Connectors;
using O2X.Streams.Kafka;
using O2X.Streams.Stomp;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>A message leaving O2X, transport-neutral. <paramref name="Key"/> orders it (Kafka partition key).</summary>
internal sealed record OutboundEnvelope(
    string MessageId,
    string? CorrelationId,
    ReadOnlyMemory<byte> Body,
    IReadOnlyDictionary<string, string> Headers,
    string? Key = null);

/// <summary>
/// Publishes to one broker destination and completes once the broker has taken responsibility for every message
/// of the batch (publisher confirm, accepted outcome, delivery report); throws otherwise. Message ids are kept, so
/// a message published twice after a crash can be deduplicated downstream.
/// </summary>
/// <remarks>
/// A batch is published in order and never split over two connections: when the connection fails under it, the
/// rest of the batch fails too, so publishing the batch again keeps the order in which messages first arrive
/// (Kafka: per partition, the idempotent producer keeps it).
/// </remarks>
internal interface IOutboundPublisher : IAsyncDisposable
{
    string Destination { get; }

    ConnectionStatus Status { get; }

    Task PublishBatchAsync(IReadOnlyList<OutboundEnvelope> batch, CancellationToken cancellation);
}

/// <summary>RabbitMQ: to a queue through the default exchange (declared durable on connect), with publisher confirms.</summary>
internal sealed class AmqpOutboundPublisher(string destination, AmqpConnectionSettings connection, string queue, AmqpQueueType queueType = AmqpQueueType.Quorum)
    : IOutboundPublisher
{
    private readonly AmqpPublisher _publisher = new(new AmqpPublishSettings(connection).WithRoutingKey(queue).WithTopology(AmqpTopology.ForQueue(queue, queueType)));

    public string Destination => destination;

    public ConnectionStatus Status => _publisher.Status;

    public Task PublishBatchAsync(IReadOnlyList<OutboundEnvelope> batch, CancellationToken cancellation) =>
        _publisher.PublishAllAsync([.. batch.Select(m => new AmqpMessage(m.Body, m.MessageId, m.CorrelationId, m.Headers, "application/json"))],
            cancellation: cancellation);

    public ValueTask DisposeAsync() => _publisher.DisposeAsync();
}

/// <summary>AMQP 1.0: to an address, waiting for the accepted outcome.</summary>
internal sealed class Amqp10OutboundPublisher(string destination, Amqp10ConnectionSettings connection, string address) : IOutboundPublisher
{
    private readonly Amqp10Publisher _publisher = new(new Amqp10PublishSettings(connection, address));

    public string Destination => destination;

    public ConnectionStatus Status => _publisher.Status;

    public Task PublishBatchAsync(IReadOnlyList<OutboundEnvelope> batch, CancellationToken cancellation) =>
        _publisher.PublishAllAsync([.. batch.Select(m => new Amqp10Message(m.Body, m.MessageId, m.CorrelationId,
            new Dictionary<string, string>(m.Headers) { ["message_id"] = m.MessageId }))], cancellation);

    public ValueTask DisposeAsync() => _publisher.DisposeAsync();
}

/// <summary>
/// STOMP (ActiveMQ): to a destination, persistent, waiting for each frame's receipt; the message id travels as the
/// <c>message_id</c> header and the correlation id as <c>correlation-id</c> (JMSCorrelationID).
/// </summary>
internal sealed class StompOutboundPublisher(string destination, StompConnectionSettings connection, string address) : IOutboundPublisher
{
    private readonly StompPublisher _publisher = new(new StompPublishSettings(connection, address));

    public string Destination => destination;

    public ConnectionStatus Status => _publisher.Status;

    public Task PublishBatchAsync(IReadOnlyList<OutboundEnvelope> batch, CancellationToken cancellation) =>
        _publisher.PublishAllAsync([.. batch.Select(m => new StompMessage(m.Body, m.MessageId, m.CorrelationId, m.Headers))], cancellation);

    public ValueTask DisposeAsync() => _publisher.DisposeAsync();
}

/// <summary>Kafka: to a topic, keyed (per-key order), waiting for the delivery report; the message id travels as a header.</summary>
internal sealed class KafkaOutboundPublisher(string destination, KafkaConnectionSettings connection, string topic) : IOutboundPublisher
{
    private readonly KafkaProducer _producer = new(new KafkaProducerSettings(connection, topic));

    public string Destination => destination;

    public ConnectionStatus Status => _producer.Status;

    public Task PublishBatchAsync(IReadOnlyList<OutboundEnvelope> batch, CancellationToken cancellation) =>
        // Produced in order; the idempotent producer keeps the order per partition through its own retries.
        Task.WhenAll(batch.Select(message =>
        {
            var headers = new Dictionary<string, string>(message.Headers) { ["message_id"] = message.MessageId };
            if (message.CorrelationId is not null) headers["correlation_id"] = message.CorrelationId;
            return _producer.PublishAsync(new KafkaMessage(message.Key ?? message.CorrelationId ?? message.MessageId, message.Body, headers), cancellation);
        }).ToList());

    public ValueTask DisposeAsync()
    {
        _producer.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Puts a message back on a broker-bound queue (an operator's requeue of a dead letter), through its publisher.</summary>
internal sealed class BrokerRequeueTarget(string queue, IOutboundPublisher publisher) : IRequeueTarget
{
    public string Queue => queue;

    public async Task<bool> RequeueAsync(MessageEnvelope envelope, CancellationToken cancellation)
    {
        await publisher.PublishBatchAsync([new OutboundEnvelope(envelope.MessageId, envelope.CorrelationId, envelope.Body, envelope.Headers)], cancellation)
            .ConfigureAwait(false);
        return true;
    }
}
