using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka;
using System.Diagnostics;
using System.Text;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Streams.Amqp;
using O2X.Streams.Connectors;
using O2X.Streams.Dsl;
using O2X.Testing;

namespace O2X.Streams.Tests;

/// <summary>The AMQP 0-9-1 connector against the real RabbitMQ started by ./test.sh.</summary>
public sealed class AmqpConnectorTests : TestKit, IAsyncLifetime
{
    private readonly IMaterializer _materializer;
    private readonly RabbitMqManagement _management = RabbitMqManagement.Shared();
    private readonly string _queue = "o2x-test-" + Guid.NewGuid().ToString("N")[..10];
    private readonly AmqpConnectionSettings _connection = new(TestServices.RabbitMqUri);

    public AmqpConnectorTests() => _materializer = Sys.Materializer();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _management.DeleteQueueAsync(_queue);
        _management.Dispose();
    }

    private AmqpSourceSettings Source(ushort prefetch = 100) =>
        new AmqpSourceSettings(_connection, _queue).WithPrefetch(prefetch).WithTopology(AmqpTopology.ForQueue(_queue));

    private AmqpPublisher Publisher() =>
        new(new AmqpPublishSettings(_connection).WithRoutingKey(_queue).WithTopology(AmqpTopology.ForQueue(_queue)));

    [Fact]
    public async Task Published_with_confirms_then_consumed_and_acked_exactly_once()
    {
        await using var publisher = Publisher();
        var ids = Enumerable.Range(0, 1000).Select(i => $"m-{i}").ToList();
        await Akka.Streams.Dsl.Source.From(ids)
            .Select(id => new AmqpMessage(Encoding.UTF8.GetBytes("{\"n\":\"" + id + "\"}"), id))
            .RunWith(AmqpFlow.Publish(publisher), _materializer);

        var received = new ConcurrentBag<string>();
        var (control, done) = AmqpSource.Committable(Source())
            .SelectAsync(16, async c =>
            {
                received.Add(c.Message.MessageId!);
                await c.Handle.CommitAsync();
                return c;
            })
            .Take(ids.Count)
            .ToMaterialized(Sink.Ignore<Committable<AmqpMessage>>(), Keep.Both)
            .Run(_materializer);
        try
        {
            await done.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{received.Count} of {ids.Count} messages within 60 s; connection {control.Status.Snapshot}; " +
                                       await _management.DescribeQueueAsync(_queue));
        }

        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        received.Should().BeEquivalentTo(ids, "each message exactly once");
        await Eventually.ReturnsAsync(() => _management.QueueDepthAsync(_queue), depth => depth == (0, 0), TimeSpan.FromSeconds(30),
            "nothing is left ready or unacknowledged in the broker");
    }

    [Fact]
    public async Task Messages_not_acknowledged_before_the_consumer_dies_are_redelivered()
    {
        await PublishAsync(10);
        var first = await TakeAsync(10, commit: false);
        first.Should().OnlyContain(m => !m.Redelivered);

        var again = await TakeAsync(10, commit: true);

        again.Select(m => m.MessageId).Should().BeEquivalentTo(first.Select(m => m.MessageId));
        again.Should().OnlyContain(m => m.Redelivered);
    }

    [Fact]
    public async Task A_released_message_goes_back_to_the_queue()
    {
        await PublishAsync(1);
        var (control, done) = AmqpSource.Committable(Source())
            .SelectAsync(1, async c =>
            {
                if (!c.Message.Redelivered) await c.Handle.ReleaseAsync();
                else await c.Handle.CommitAsync();
                return c.Message;
            })
            .Take(2)
            .ToMaterialized(Sink.Seq<AmqpMessage>(), Keep.Both)
            .Run(_materializer);

        var seen = await done.WaitAsync(TimeSpan.FromSeconds(30));
        await control.StopAsync();

        seen.Select(m => m.Redelivered).Should().Equal(false, true);
    }

    [Fact]
    public async Task A_slow_consumer_leaves_the_backlog_in_the_broker_and_its_memory_flat()
    {
        const int count = 20_000;
        var payload = new string('x', 1000);
        await using (var publisher = Publisher())
        {
            await Akka.Streams.Dsl.Source.From(Enumerable.Range(0, count))
                .Select(i => new AmqpMessage(Encoding.UTF8.GetBytes(payload), $"m-{i}"))
                .RunWith(AmqpFlow.Publish(publisher), _materializer);
        }

        var baseline = Memory();
        var consumed = 0;
        var (control, done) = AmqpSource.Committable(Source(prefetch: 20))
            .SelectAsync(1, async c =>
            {
                await Task.Delay(20); // a slow downstream
                await c.Handle.CommitAsync();
                Interlocked.Increment(ref consumed);
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(_materializer);

        await Eventually.TrueAsync(() => Volatile.Read(ref consumed) >= 50, TimeSpan.FromSeconds(30), "consumption is under way");
        // RabbitMQ's management statistics are samples (every 5 s by default): one taken while the publisher was still
        // sending reports a smaller backlog than the broker holds. Wait for a sample that shows the backlog; if the consumer
        // had pulled it into memory, none ever would.
        var (ready, unacked) = await Eventually.ReturnsAsync(() => _management.QueueDepthAsync(_queue),
            d => d.Ready > count - Volatile.Read(ref consumed) - 100, TimeSpan.FromSeconds(30), "the broker reports the backlog still in it");
        var during = Memory();
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        unacked.Should().BeLessThanOrEqualTo(20, "basic.qos bounds what the consumer holds");
        (during - baseline).Should().BeLessThan(10 * 1024 * 1024, $"the 20 MB backlog is not pulled into memory (baseline {baseline}, during {during})");
    }

    [Fact]
    public async Task A_message_published_by_another_client_is_consumed()
    {
        await DeclareAsync();
        await _management.PublishAsync(_queue, "{\"from\":\"management api\"}", "external-1");
        await RunAsync("amqp-publish", "-u", TestServices.RabbitMqUri.GetLeftPart(UriPartial.Authority), "-r", _queue, "-p", "-b", "{\"from\":\"amqp-publish\"}");

        var messages = await TakeAsync(2, commit: true);

        messages.Select(m => Encoding.UTF8.GetString(m.Body.Span)).Should().BeEquivalentTo(
            ["{\"from\":\"management api\"}", "{\"from\":\"amqp-publish\"}"]);
        messages.Should().Contain(m => m.MessageId == "external-1");
    }

    [Fact]
    public async Task Stopping_drains_what_is_in_flight_and_leaves_the_rest_in_the_broker()
    {
        await PublishAsync(50);
        var gate = new TaskCompletionSource();
        var committed = new ConcurrentBag<string>();
        var (control, done) = AmqpSource.Committable(Source(prefetch: 10))
            .SelectAsync(4, async c =>
            {
                await gate.Task;
                await c.Handle.CommitAsync();
                committed.Add(c.Message.MessageId!);
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(_materializer);
        await Eventually.TrueAsync(async () => (await _management.QueueDepthAsync(_queue)).Unacknowledged == 10, TimeSpan.FromSeconds(30),
            "the consumer holds its prefetch");

        var stopping = control.StopAsync();
        stopping.IsCompleted.Should().BeFalse("in-flight messages are still being handled");
        gate.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        committed.Should().NotBeEmpty();
        await Eventually.TrueAsync(async () => await _management.QueueDepthAsync(_queue) == (50 - committed.Count, 0), TimeSpan.FromSeconds(30),
            "what was handled is acknowledged, the rest is back in the queue");
    }

    private async Task PublishAsync(int count)
    {
        await using var publisher = Publisher();
        for (var i = 0; i < count; i++) await publisher.PublishAsync(new AmqpMessage(Encoding.UTF8.GetBytes("{}"), $"m-{i}"));
    }

    private async Task DeclareAsync()
    {
        await using var publisher = Publisher();
        await publisher.PublishAsync(new AmqpMessage(Encoding.UTF8.GetBytes("{}"), "declare"), _queue);
        await TakeAsync(1, commit: true);
    }

    private async Task<IReadOnlyList<AmqpMessage>> TakeAsync(int count, bool commit)
    {
        var seen = new ConcurrentQueue<AmqpMessage>();
        var (control, done) = AmqpSource.Committable(Source())
            .SelectAsync(1, async c =>
            {
                seen.Enqueue(c.Message);
                if (commit) await c.Handle.CommitAsync();
                return c.Message;
            })
            .Take(count)
            .ToMaterialized(Sink.Seq<AmqpMessage>(), Keep.Both)
            .Run(_materializer);
        IImmutableList<AmqpMessage> messages;
        try
        {
            messages = await done.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            // Say what the consumer had and what the broker holds: a message lost differs from one parked with another consumer.
            var had = string.Join(", ", seen.Select(m => $"{m.MessageId ?? "(no id)"}{(m.Redelivered ? " (redelivered)" : "")}"));
            throw new TimeoutException($"{seen.Count} of {count} messages within 30 s [{had}]; connection {control.Status.Snapshot}; " +
                                       await _management.DescribeQueueAsync(_queue));
        }

        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return messages;
    }

    private static long Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        await process.WaitForExitAsync();
        process.ExitCode.Should().Be(0, await process.StandardError.ReadToEndAsync());
    }
}
