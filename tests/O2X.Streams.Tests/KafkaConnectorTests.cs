using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using O2X.Streams.Connectors;
using O2X.Streams.Dsl;
using O2X.Streams.Kafka;
using O2X.Testing;
using Xunit.Abstractions;

namespace O2X.Streams.Tests;

/// <summary>The Kafka connector against librdkafka's mock cluster (a real Kafka protocol peer), and kcat.</summary>
public sealed class KafkaConnectorTests(ITestOutputHelper output) : TestKit
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly KafkaMockCluster _cluster = new(brokers: 3);
    private IMaterializer? _materializerInstance;

    private IMaterializer _materializer => _materializerInstance ??= Sys.Materializer();
    private readonly string _topic = "o2x-" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "o2x-group-" + Guid.NewGuid().ToString("N")[..6];


    private KafkaConnectionSettings Connection => new(_cluster.BootstrapServers);

    private KafkaConsumerSettings Consumer => new KafkaConsumerSettings(Connection, _group, _topic)
        .WithCommitBatching(50, TimeSpan.FromMilliseconds(100))
        .WithSessionTimeout(TimeSpan.FromSeconds(6)); // rebalances wait for it in the mock cluster

    [Fact]
    public async Task Published_with_delivery_reports_then_consumed_in_partition_order_and_committed_exactly_once()
    {
        _cluster.CreateTopic(_topic, partitions: 4);
        var deliveries = await ProduceAsync(1000);
        deliveries.Select(d => (d.Partition, d.Offset)).Should().OnlyHaveUniqueItems("each delivery report names the record's place");

        var (control, done) = KafkaSource.Committable(Consumer)
            .SelectAsync(8, async c =>
            {
                await c.Handle.CommitAsync();
                return c.Message;
            })
            .Take(1000)
            .ToMaterialized(Sink.Seq<KafkaRecord>(), Keep.Both)
            .Run(_materializer);
        var received = await done.WaitAsync(Deadline);
        await control.StopAsync().WaitAsync(Deadline);

        received.Select(r => Encoding.UTF8.GetString(r.Value.Span)).Should().BeEquivalentTo(Enumerable.Range(0, 1000).Select(i => $"v{i}"));
        foreach (var partition in received.GroupBy(r => r.Partition))
            partition.Select(r => r.Offset).Should().BeInAscendingOrder("records of a partition are emitted in offset order");
        received.First(r => r.Key == "k7").Headers!["source"].Should().Be("test");
        (await CommittedAsync()).Should().BeEquivalentTo(await HighWatermarksAsync(), "everything consumed is committed");
    }

    [Fact]
    public async Task Records_not_settled_when_the_consumer_goes_are_consumed_again_by_the_next_one()
    {
        _cluster.CreateTopic(_topic, partitions: 1);
        await ProduceAsync(50);

        var (first, firstDone) = KafkaSource.Committable(Consumer)
            .Take(30)
            .SelectAsync(1, async c =>
            {
                if (c.Message.Offset < 20) await c.Handle.CommitAsync(); // the rest is "crashed" before it was done
                return c.Message.Offset;
            })
            .ToMaterialized(Sink.Seq<long>(), Keep.Both)
            .Run(_materializer);
        (await firstDone.WaitAsync(Deadline)).Should().HaveCount(30);
        await first.StopAsync(TimeSpan.FromMilliseconds(200)).WaitAsync(Deadline);

        var (second, secondDone) = KafkaSource.Committable(Consumer)
            .SelectAsync(1, async c =>
            {
                await c.Handle.CommitAsync();
                return c.Message.Offset;
            })
            .Take(30)
            .ToMaterialized(Sink.Seq<long>(), Keep.Both)
            .Run(_materializer);
        var again = await secondDone.WaitAsync(Deadline);
        await second.StopAsync().WaitAsync(Deadline);

        again.Should().Equal(Enumerable.Range(20, 30).Select(i => (long)i), "consumption resumes at the first record that was not done");
    }

    [Fact]
    public async Task A_released_record_is_consumed_again_from_its_offset()
    {
        _cluster.CreateTopic(_topic, partitions: 1);
        await ProduceAsync(10);
        var released = 0;
        var offsets = new ConcurrentQueue<long>();

        var (control, _) = KafkaSource.Committable(Consumer)
            .SelectAsync(1, async c =>
            {
                offsets.Enqueue(c.Message.Offset);
                if (c.Message.Offset == 5 && Interlocked.Exchange(ref released, 1) == 0) await c.Handle.ReleaseAsync();
                else await c.Handle.CommitAsync();
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(_materializer);
        try
        {
            // Records fetched before the seek took effect may come once more before the replay (at least once):
            // what matters is that the partition is consumed again, to its end, from the released record.
            await Eventually.TrueAsync(() => ReplayedFrom5(offsets.ToList()), Deadline, "the partition is consumed again from the released record");
        }
        catch (TimeoutException)
        {
            // Seen once under full-suite load and not reproduced since: leave what happened in the test output.
            output.WriteLine($"consumed offsets: {string.Join(",", offsets)}; source {control.Status.Snapshot}");
            throw;
        }

        await control.StopAsync().WaitAsync(Deadline);

        var sequence = offsets.ToList();
        sequence.Take(6).Should().Equal(0, 1, 2, 3, 4, 5);
        var again = sequence.LastIndexOf(5);
        again.Should().BeGreaterThan(5, "the released record comes again");
        sequence.Skip(6).Take(again - 6).Should().Equal(Enumerable.Range(6, again - 6).Select(o => (long)o),
            "before the seek, the records already fetched after the released one arrive in order");
        sequence.Skip(again).Should().Equal(5, 6, 7, 8, 9);
        (await CommittedAsync()).Should().BeEquivalentTo(await HighWatermarksAsync());

        static bool ReplayedFrom5(List<long> consumed)
        {
            var again = consumed.LastIndexOf(5);
            return again > 5 && consumed.Skip(again).Contains(9);
        }
    }

    [Fact]
    public async Task A_slow_downstream_pauses_the_partitions_and_the_backlog_stays_in_the_broker()
    {
        const int perPartition = 20;
        _cluster.CreateTopic(_topic, partitions: 2);
        await ProduceAsync(1000);
        var gate = new TaskCompletionSource();
        var held = 0;
        var (control, done) = KafkaSource.Committable(Consumer.WithMaxInFlightPerPartition(perPartition))
            .SelectAsync(1000, async c =>
            {
                Interlocked.Increment(ref held);
                await gate.Task;
                await c.Handle.CommitAsync();
                return NotUsed.Instance;
            })
            .Take(3000)
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(_materializer);

        await Eventually.TrueAsync(() => Volatile.Read(ref held) >= 2 * perPartition, Deadline, "both partitions deliver up to their bound");
        // The consumer keeps polling while 2000 more records arrive; the paused partitions take none of them.
        await ProduceAsync(2000, from: 1000);
        Volatile.Read(ref held).Should().BeLessThanOrEqualTo(2 * perPartition, "a partition is paused at its bound");

        gate.SetResult();
        await done.WaitAsync(Deadline);
        await control.StopAsync().WaitAsync(Deadline);
        Volatile.Read(ref held).Should().Be(3000);
        (await CommittedAsync()).Should().BeEquivalentTo(await HighWatermarksAsync());
    }

    [Fact]
    public async Task A_rebalance_between_two_consumers_of_a_group_loses_nothing()
    {
        _cluster.CreateTopic(_topic, partitions: 4);
        await ProduceAsync(2000);
        var seen = new ConcurrentDictionary<string, int>();
        var byConsumer = new ConcurrentDictionary<string, int>();

        (IConsumerControl, Task<Done>) Run(string name, TimeSpan pace) => KafkaSource.Committable(Consumer.WithMaxInFlightPerPartition(50))
            .SelectAsync(1, async c =>
            {
                if (pace > TimeSpan.Zero) await Task.Delay(pace); // slow enough for the rebalance to happen mid-stream
                seen.AddOrUpdate(Encoding.UTF8.GetString(c.Message.Value.Span), 1, (_, n) => n + 1);
                byConsumer.AddOrUpdate(name, 1, (_, n) => n + 1);
                await c.Handle.CommitAsync();
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(_materializer);

        var (a, _) = Run("a", TimeSpan.FromMilliseconds(3));
        await Eventually.TrueAsync(() => seen.Count >= 100, Deadline, "the first consumer is under way");
        var (b, _) = Run("b", TimeSpan.Zero);
        await Eventually.TrueAsync(() => seen.Count == 2000, Deadline, "every record is consumed by one of the two");
        // A commit refused during the rebalance means the record comes again to its new owner, which commits it; seeing
        // every record once is not yet every record committed, so the check waits (while both run) for the commits.
        var watermarks = await HighWatermarksAsync();
        await Eventually.ReturnsAsync(CommittedAsync, c => watermarks.All(w => c.GetValueOrDefault(w.Key) == w.Value), Deadline,
            "every record is committed by whoever owned it last");
        await Task.WhenAll(a.StopAsync(), b.StopAsync()).WaitAsync(Deadline);

        byConsumer.GetValueOrDefault("b").Should().BeGreaterThan(0, "the second consumer took over partitions");
        (await CommittedAsync()).Should().BeEquivalentTo(watermarks, "stopping loses no commit and commits nothing beyond the end");
        // Duplicates are allowed (at-least-once; O2X handlers deduplicate by message id). The mock cluster refuses
        // commits while the group rebalances — the revoke commit included — so some records are consumed twice.
        output.WriteLine($"a: {byConsumer.GetValueOrDefault("a")}, b: {byConsumer.GetValueOrDefault("b")}, consumed twice: {seen.Values.Count(n => n > 1)}");
    }

    [Fact]
    public async Task Partitioned_sources_emit_one_partition_each_in_order_and_complete_when_it_is_revoked()
    {
        _cluster.CreateTopic(_topic, partitions: 3);
        await ProduceAsync(300);
        var records = new ConcurrentQueue<(TopicPartition Partition, KafkaRecord Record)>();
        var subSources = new ConcurrentBag<Task<Done>>();

        var (control, _) = KafkaSource.CommittablePartitioned(Consumer)
            .Select(p =>
            {
                subSources.Add(p.Records
                    .SelectAsync(1, async c =>
                    {
                        records.Enqueue((p.Partition, c.Message));
                        await c.Handle.CommitAsync();
                        return NotUsed.Instance;
                    })
                    .RunWith(Sink.Ignore<NotUsed>(), _materializer));
                return p.Partition;
            })
            .ToMaterialized(Sink.Ignore<TopicPartition>(), Keep.Both)
            .Run(_materializer);

        await Eventually.TrueAsync(() => records.Count == 300, Deadline, "all partitions' records arrive");
        subSources.Should().HaveCount(3);
        foreach (var partition in records.GroupBy(r => r.Partition))
        {
            partition.Should().OnlyContain(r => r.Record.Partition == partition.Key.Partition.Value, "a sub-source carries its own partition only");
            partition.Select(r => r.Record.Offset).Should().BeInAscendingOrder();
        }

        // A second member joins: partitions are revoked from the first, whose sub-sources complete.
        var (other, _) = KafkaSource.Committable(Consumer).ToMaterialized(Sink.Ignore<Committable<KafkaRecord>>(), Keep.Both).Run(_materializer);
        await Eventually.TrueAsync(() => subSources.Any(s => s.IsCompletedSuccessfully), Deadline, "a revoked partition's sub-source completes");
        await Task.WhenAll(control.StopAsync(), other.StopAsync()).WaitAsync(Deadline);
    }

    [Fact]
    public async Task Records_produced_by_kcat_are_consumed_with_their_keys_and_headers()
    {
        _cluster.CreateTopic(_topic, partitions: 2);
        var lines = string.Join("\n", Enumerable.Range(0, 20).Select(i => $"order-{i % 5}|{{\"n\":{i}}}")) + "\n";
        var kcat = Process.Start(new ProcessStartInfo("kcat", ["-P", "-b", _cluster.BootstrapServers, "-t", _topic, "-K", "|", "-H", "message_id=from-kcat", "-H", "source=kcat"])
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
        })!;
        await kcat.StandardInput.WriteAsync(lines);
        kcat.StandardInput.Close();
        await kcat.WaitForExitAsync().WaitAsync(Deadline);
        kcat.ExitCode.Should().Be(0, await kcat.StandardError.ReadToEndAsync());

        var (control, done) = KafkaSource.Committable(Consumer)
            .SelectAsync(1, async c =>
            {
                await c.Handle.CommitAsync();
                return c.Message;
            })
            .Take(20)
            .ToMaterialized(Sink.Seq<KafkaRecord>(), Keep.Both)
            .Run(_materializer);
        var received = await done.WaitAsync(Deadline);
        await control.StopAsync().WaitAsync(Deadline);

        received.Select(r => Encoding.UTF8.GetString(r.Value.Span)).Should().BeEquivalentTo(Enumerable.Range(0, 20).Select(i => $"{{\"n\":{i}}}"));
        received.Should().OnlyContain(r => r.Key!.StartsWith("order-") && r.Headers!["source"] == "kcat");
        foreach (var key in received.GroupBy(r => r.Key))
            key.Select(r => r.Partition).Distinct().Should().ContainSingle("one key, one partition");
    }

    private async Task<IReadOnlyList<KafkaDelivery>> ProduceAsync(int count, int from = 0)
    {
        using var producer = new KafkaProducer(new KafkaProducerSettings(Connection, _topic));
        return await Source.From(Enumerable.Range(from, count))
            .Select(i => new KafkaMessage($"k{i}", Encoding.UTF8.GetBytes($"v{i}"), new Dictionary<string, string> { ["source"] = "test" }))
            .Via(KafkaFlow.Publish(producer))
            .RunWith(Sink.Seq<KafkaDelivery>(), _materializer)
            .WaitAsync(Deadline);
    }

    private IConsumer<Ignore, Ignore> Inspector() =>
        new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _cluster.BootstrapServers, GroupId = _group }).Build();

    private async Task<Dictionary<int, long>> CommittedAsync()
    {
        using var inspector = Inspector();
        var partitions = await PartitionsAsync();
        return await Task.Run(() => inspector.Committed(partitions, TimeSpan.FromSeconds(10))
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value));
    }

    private async Task<Dictionary<int, long>> HighWatermarksAsync()
    {
        using var inspector = Inspector();
        var partitions = await PartitionsAsync();
        return await Task.Run(() => partitions.ToDictionary(p => p.Partition.Value, p => inspector.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value));
    }

    private Task<List<TopicPartition>> PartitionsAsync() => Task.Run(() =>
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.BootstrapServers }).Build();
        var topic = admin.GetMetadata(_topic, TimeSpan.FromSeconds(10)).Topics.Single();
        return topic.Partitions.Select(p => new TopicPartition(_topic, p.PartitionId)).ToList();
    });

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _cluster.Dispose();
    }
}
