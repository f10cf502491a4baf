using System.Text;
using Confluent.Kafka;
using O2X.Streams.Connectors;

namespace O2X.Streams.Kafka;

/// <summary>
/// Publishes to Kafka and waits for the delivery report: <see cref="PublishAsync"/> completes when the partition
/// leader acknowledged the record (<c>acks=all</c>, idempotent producer: no duplicates from the producer's
/// own retries) and throws when delivery failed within <see cref="KafkaProducerSettings.DeliveryTimeout"/>.
/// Many publishes may be in flight; librdkafka batches them (<see cref="KafkaProducerSettings.Linger"/>) and
/// reconnects to brokers by itself.
/// </summary>
public sealed class KafkaProducer : IDisposable
{
    private readonly KafkaProducerSettings _settings;
    private readonly IProducer<string?, byte[]> _producer;

    public KafkaProducer(KafkaProducerSettings settings)
    {
        Librdkafka.EnsureLoaded();
        _settings = settings;
        Status = new ConnectionStatus("kafka-producer:" + (settings.DefaultTopic ?? settings.Connection.BootstrapServers));
        _producer = new ProducerBuilder<string?, byte[]>(settings.ToConfig())
            .SetKeySerializer(NullableUtf8.Instance)
            .SetErrorHandler((_, error) =>
            {
                if (error.IsFatal || error.Code is ErrorCode.Local_AllBrokersDown) Status.Set(ConnectionState.Reconnecting, error.Reason);
            })
            .Build();
        Status.Set(ConnectionState.Connected);
    }

    public ConnectionStatus Status { get; }

    public async Task<KafkaDelivery> PublishAsync(KafkaMessage message, CancellationToken cancellation = default)
    {
        var topic = message.Topic ?? _settings.DefaultTopic
                    ?? throw new ArgumentException("No topic: give one in the message, or a default topic in the producer settings.", nameof(message));
        var kafka = new Message<string?, byte[]> { Key = message.Key, Value = message.Body() };
        if (message.Headers is { Count: > 0 })
        {
            kafka.Headers = new Headers();
            foreach (var (key, value) in message.Headers) kafka.Headers.Add(key, Encoding.UTF8.GetBytes(value));
        }

        try
        {
            var result = await _producer.ProduceAsync(topic, kafka, cancellation).ConfigureAwait(false);
            if (Status.State != ConnectionState.Connected) Status.Set(ConnectionState.Connected);
            return new KafkaDelivery(message, result.Topic, result.Partition.Value, result.Offset.Value);
        }
        catch (ProduceException<string?, byte[]> ex) when (ex.Error.Code is ErrorCode.Local_MsgTimedOut or ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Transport)
        {
            Status.Set(ConnectionState.Reconnecting, ex.Error.Reason);
            throw;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for what is in flight to be delivered, then closes.</summary>
    public void Dispose() => Dispose(TimeSpan.FromSeconds(10));

    public void Dispose(TimeSpan timeout)
    {
        _producer.Flush(timeout);
        _producer.Dispose();
        Status.Set(ConnectionState.Stopped);
    }

    private sealed class NullableUtf8 : ISerializer<string?>
    {
        public static readonly NullableUtf8 Instance = new();

        public byte[]? Serialize(string? data, SerializationContext context) => data is null ? null : Encoding.UTF8.GetBytes(data);
    }
}

internal static class KafkaMessageExtensions
{
    public static byte[] Body(this KafkaMessage message) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(message.Value, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : message.Value.ToArray();
}
