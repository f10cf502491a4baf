using Confluent.Kafka;

namespace O2X.Streams.Kafka;

/// <summary>
/// A consumer group's lag on a topic: per partition the high watermark minus the group's committed offset (the
/// whole partition when nothing is committed yet), summed. Uses a consumer that never subscribes, so it does not
/// join the group or disturb its assignments. For metrics.
/// </summary>
public sealed class KafkaLagInspector(KafkaConnectionSettings connection) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly Dictionary<string, IConsumer<Ignore, Ignore>> _consumers = [];
    private readonly object _gate = new();

    public Task<long> LagAsync(string groupId, string topic, CancellationToken ct = default) => Task.Run(() =>
    {
        lock (_gate)
        {
            if (!_consumers.TryGetValue(groupId, out var consumer))
            {
                var config = new ConsumerConfig { GroupId = groupId, EnableAutoCommit = false };
                connection.ApplyTo(config);
                config.ClientId = connection.ClientId + "-lag";
                _consumers[groupId] = consumer = new ConsumerBuilder<Ignore, Ignore>(config).Build();
            }

            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var partitions = admin.GetMetadata(topic, Timeout).Topics.Single().Partitions
                .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
            var committed = consumer.Committed(partitions, Timeout).ToDictionary(c => c.Partition.Value, c => c.Offset);
            long lag = 0;
            foreach (var partition in partitions)
            {
                ct.ThrowIfCancellationRequested();
                var watermarks = consumer.QueryWatermarkOffsets(partition, Timeout);
                var position = committed.TryGetValue(partition.Partition.Value, out var offset) && offset != Offset.Unset ? offset.Value : watermarks.Low.Value;
                lag += Math.Max(0, watermarks.High.Value - position);
            }

            return lag;
        }
    }, ct);

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var consumer in _consumers.Values)
            {
                consumer.Close();
                consumer.Dispose();
            }

            _consumers.Clear();
        }
    }
}
