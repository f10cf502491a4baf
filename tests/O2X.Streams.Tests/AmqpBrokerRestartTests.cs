using System.Collections.Concurrent;
using System.Text;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Streams.Amqp;
using O2X.Streams.Connectors;
using O2X.Streams.Dsl;
using O2X.Testing;

namespace O2X.Streams.Tests;

/// <summary>The AMQP source through a broker restart, on a private RabbitMQ (the shared one must not restart under other tests).</summary>
public sealed class AmqpBrokerRestartTests : TestKit
{
    [Fact]
    public async Task The_source_reconnects_after_a_broker_restart_and_nothing_acknowledged_is_lost()
    {
        await using var broker = await RabbitMqServer.StartAsync();
        var connection = new AmqpConnectionSettings(broker.AmqpUri).WithReconnect(new ReconnectBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2)));
        const string queue = "restart-test";
        var topology = AmqpTopology.ForQueue(queue);
        var materializer = Sys.Materializer();
        const int count = 3000;
        await using (var publisher = new AmqpPublisher(new AmqpPublishSettings(connection).WithRoutingKey(queue).WithTopology(topology)))
        {
            await Source.From(Enumerable.Range(0, count))
                .Select(i => new AmqpMessage(Encoding.UTF8.GetBytes("{}"), $"m-{i}"))
                .RunWith(AmqpFlow.Publish(publisher), materializer);
        }

        var handled = new ConcurrentDictionary<string, int>();
        var states = new ConcurrentQueue<ConnectionState>();
        // After 500 messages the consumer holds what it has until the broker has been away and is back, so the
        // restart falls in the middle of consumption however fast this machine is (the broker stop takes seconds).
        var brokerBack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (control, done) = AmqpSource.Committable(new AmqpSourceSettings(connection, queue).WithPrefetch(50).WithTopology(topology))
            .SelectAsync(8, async c =>
            {
                if (handled.Count >= 500) await brokerBack.Task;
                handled.AddOrUpdate(c.Message.MessageId!, 1, (_, n) => n + 1);
                await c.Handle.CommitAsync();
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(materializer);
        control.Status.Changed += s => states.Enqueue(s.State);

        await Eventually.TrueAsync(() => handled.Count >= 500, TimeSpan.FromSeconds(60), "consumption is under way");
        await broker.StopAppAsync();
        await Eventually.TrueAsync(() => control.Status.State == ConnectionState.Reconnecting, TimeSpan.FromSeconds(30),
            "the lost connection is visible in the source's status");
        await broker.StartAppAsync();
        brokerBack.SetResult();

        await Eventually.TrueAsync(() => handled.Count == count, TimeSpan.FromSeconds(120), "every message is handled after the restart");
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        done.IsFaulted.Should().BeFalse("the stream survived the restart instead of dying");

        // Read once the source has stopped: its status is final.
        control.Status.State.Should().Be(ConnectionState.Stopped);
        states.Should().ContainInOrder(ConnectionState.Reconnecting, ConnectionState.Connected);
        control.Status.Snapshot.Reconnects.Should().BeGreaterThanOrEqualTo(1, "2,500 messages were still on the broker when it went away");
        handled.Values.Count(n => n > 1).Should().BeLessThanOrEqualTo(50 + 8, "only what was unacknowledged at the restart came back");
        using var management = new RabbitMqManagement(broker.ManagementUri);
        await Eventually.TrueAsync(async () => await management.QueueDepthAsync(queue) == (0, 0), TimeSpan.FromSeconds(30), "the queue is empty");
    }
}
