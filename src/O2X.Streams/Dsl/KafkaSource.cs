using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using O2X.Streams.Connectors;
using O2X.Streams.Kafka;

namespace O2X.Streams.Dsl;

/// <summary>Sources consuming from Kafka through Confluent.Kafka (librdkafka), in a consumer group.</summary>
public static class KafkaSource
{
    /// <summary>
    /// At-least-once consumption. An offset is committed only after the pipeline settled its record and every
    /// record before it in the partition (<see cref="ICommitHandle.CommitAsync"/>, or
    /// <see cref="ICommitHandle.RejectAsync"/> — Kafka has no broker-side dead-lettering); commits are batched by
    /// count and interval. <see cref="ICommitHandle.ReleaseAsync"/> seeks the partition back to the record, which
    /// is consumed again with those after it. Records of a partition are emitted in offset order. A partition is
    /// paused while <see cref="KafkaConsumerSettings.MaxInFlightPerPartition"/> of its records are unsettled, so
    /// memory stays bounded with a slow downstream. On a rebalance, records of revoked partitions are waited for
    /// (at most <see cref="KafkaConsumerSettings.RevokeDrainTimeout"/>) and committed before the partitions go;
    /// their later settlements are ignored (the new owner consumes from the last commit). librdkafka reconnects to
    /// brokers by itself (the state shows as Reconnecting meanwhile); after a fatal consumer error the source
    /// opens a new consumer with backoff. <see cref="IConsumerControl.StopAsync"/> drains, commits and leaves the group.
    /// </summary>
    public static Source<Committable<KafkaRecord>, IConsumerControl> Committable(KafkaConsumerSettings settings) =>
        Source.FromGraph(new KafkaSourceStage(settings));

    /// <summary>
    /// As <see cref="Committable"/>, one sub-source per partition assignment: each emits its partition's records
    /// in order and completes when the partition is revoked (its unemitted records are given back). Run the
    /// sub-sources concurrently (e.g. <c>SelectAsyncUnordered</c> over <c>RunWith</c>) for parallelism across
    /// partitions with order kept within each.
    /// </summary>
    public static Source<(TopicPartition Partition, Source<Committable<KafkaRecord>, NotUsed> Records), IConsumerControl> CommittablePartitioned(
        KafkaConsumerSettings settings) =>
        Committable(settings).ViaMaterialized(Flow.FromGraph(new PartitionRouterStage()), Keep.Left);

    /// <summary>At-most-once: each record's offset is marked done as it is emitted, before the pipeline handles it.</summary>
    public static Source<KafkaRecord, IConsumerControl> AtMostOnce(KafkaConsumerSettings settings) =>
        Committable(settings).SelectAsync(1, async c =>
        {
            await c.Handle.CommitAsync().ConfigureAwait(false);
            return c.Message;
        });
}

/// <summary>Flows publishing to Kafka, waiting for delivery reports.</summary>
public static class KafkaFlow
{
    /// <summary>
    /// Produces each message and emits its delivery (topic, partition, offset) once the leader acknowledged it;
    /// up to <paramref name="maxInFlight"/> at once, emitted in order. A failed delivery fails the stream.
    /// </summary>
    public static Flow<KafkaMessage, KafkaDelivery, NotUsed> Publish(KafkaProducer producer, int maxInFlight = 1024) =>
        Flow.Create<KafkaMessage>().SelectAsync(maxInFlight, message => producer.PublishAsync(message));
}
