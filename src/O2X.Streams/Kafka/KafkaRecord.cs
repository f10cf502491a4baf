namespace O2X.Streams.Kafka;

/// <summary>A record as consumed from Kafka. Header values are decoded as UTF-8.</summary>
public sealed record KafkaRecord(
    string Topic,
    int Partition,
    long Offset,
    string? Key,
    ReadOnlyMemory<byte> Value,
    IReadOnlyDictionary<string, string>? Headers,
    DateTimeOffset Timestamp)
{
    /// <summary><c>topic-partition@offset</c>: unique for the record's lifetime in the topic.</summary>
    public string Position => $"{Topic}-{Partition}@{Offset}";
}

/// <summary>A record to produce. Without a <paramref name="Topic"/>, the producer's default topic is used.</summary>
public sealed record KafkaMessage(
    string? Key,
    ReadOnlyMemory<byte> Value,
    IReadOnlyDictionary<string, string>? Headers = null,
    string? Topic = null);

/// <summary>A produced record as acknowledged by the partition leader (with <c>acks=all</c>: by all in-sync replicas).</summary>
public sealed record KafkaDelivery(KafkaMessage Message, string Topic, int Partition, long Offset);
