using System.Collections.Concurrent;
using System.Text;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Streams.Amqp;
using O2X.Streams.Amqp10;
using O2X.Streams.Connectors;
using O2X.Streams.Dsl;
using O2X.Testing;

namespace O2X.Streams.Tests;

/// <summary>The AMQP 1.0 connector against RabbitMQ's AMQP 1.0 plugin (ActiveMQ / Artemis in production).</summary>
public sealed class Amqp10ConnectorTests : TestKit, IAsyncLifetime
{
    private readonly IMaterializer _materializer;
    private readonly RabbitMqManagement _management = RabbitMqManagement.Shared();
    private readonly string _queue = "o2x-amqp10-" + Guid.NewGuid().ToString("N")[..10];
    private readonly Amqp10ConnectionSettings _connection = new(TestServices.RabbitMqAmqp10Uri);

    public Amqp10ConnectorTests() => _materializer = Sys.Materializer();

    /// <summary>The queue is declared over AMQP 0-9-1; AMQP 1.0 addresses it as <c>/amq/queue/NAME</c>.</summary>
    public async Task InitializeAsync()
    {
        await using var declare = new AmqpPublisher(new AmqpPublishSettings(new AmqpConnectionSettings(TestServices.RabbitMqUri))
            .WithRoutingKey(_queue).WithTopology(AmqpTopology.ForQueue(_queue, AmqpQueueType.Classic)));
        await declare.PublishAsync(new AmqpMessage(Encoding.UTF8.GetBytes("{\"from\":\"amqp 0-9-1\"}"), "first"));
    }

    public async Task DisposeAsync()
    {
        await _management.DeleteQueueAsync(_queue);
        _management.Dispose();
    }

    private string Address => Amqp10Address.RabbitMqQueue(_queue);

    [Fact]
    public async Task Published_with_settled_outcome_then_consumed_and_accepted_exactly_once()
    {
        await using (var publisher = new Amqp10Publisher(new Amqp10PublishSettings(_connection, Address)))
        {
            await Source.From(Enumerable.Range(0, 500))
                .Select(i => new Amqp10Message(Encoding.UTF8.GetBytes("{}"), $"m-{i}", Properties: new Dictionary<string, string> { ["n"] = i.ToString() }))
                .Via(Amqp10Flow.PublishWithOutcome(publisher))
                .RunWith(Sink.Ignore<Amqp10Message>(), _materializer);
        }

        var received = await TakeAsync(501, settle: c => c.Handle.CommitAsync());

        received.Select(m => m.MessageId).Should().OnlyHaveUniqueItems().And.Contain("first", "a message published over AMQP 0-9-1 arrives too");
        received.Single(m => m.MessageId == "m-7").Properties!["n"].Should().Be("7");
        Encoding.UTF8.GetString(received.Single(m => m.MessageId == "first").Body.Span).Should().Be("{\"from\":\"amqp 0-9-1\"}");
        await Eventually.TrueAsync(async () => await _management.QueueDepthAsync(_queue) == (0, 0), TimeSpan.FromSeconds(30), "all accepted");
    }

    [Fact]
    public async Task A_released_message_comes_back_and_an_unsettled_one_is_redelivered_after_the_link_is_gone()
    {
        var first = await TakeAsync(1, settle: c => c.Handle.ReleaseAsync());
        var unsettled = await TakeAsync(1, settle: _ => ValueTask.CompletedTask);
        var last = await TakeAsync(1, settle: c => c.Handle.CommitAsync());

        first.Single().MessageId.Should().Be("first");
        unsettled.Single().MessageId.Should().Be("first", "a released message is delivered again");
        last.Single().MessageId.Should().Be("first", "the unsettled one went back when its consumer stopped");
        await Eventually.TrueAsync(async () => await _management.QueueDepthAsync(_queue) == (0, 0), TimeSpan.FromSeconds(30), "accepted at last");
    }

    [Fact]
    public async Task Link_credit_bounds_what_the_consumer_holds()
    {
        await using (var publisher = new Amqp10Publisher(new Amqp10PublishSettings(_connection, Address)))
            for (var i = 0; i < 300; i++) await publisher.PublishAsync(new Amqp10Message(Encoding.UTF8.GetBytes("{}"), $"m-{i}"));
        var gate = new TaskCompletionSource();
        var held = new ConcurrentBag<Committable<Amqp10Message>>();
        var (control, _) = Amqp10Source.Committable(new Amqp10SourceSettings(_connection, Address).WithCredit(10))
            .SelectAsync(100, async c =>
            {
                held.Add(c);
                await gate.Task;
                await c.Handle.CommitAsync();
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(_materializer);

        await Eventually.TrueAsync(() => held.Count >= 10, TimeSpan.FromSeconds(30), "the consumer received its credit's worth");
        var (ready, unacked) = await Eventually.ReturnsAsync(() => _management.QueueDepthAsync(_queue), d => d.Unacknowledged > 0,
            TimeSpan.FromSeconds(30), "the broker reports what is out");

        held.Count.Should().BeLessThanOrEqualTo(10);
        unacked.Should().BeLessThanOrEqualTo(10);
        ready.Should().BeGreaterThan(250);
        gate.SetResult();
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task<IReadOnlyList<Amqp10Message>> TakeAsync(int count, Func<Committable<Amqp10Message>, ValueTask> settle)
    {
        var (control, done) = Amqp10Source.Committable(new Amqp10SourceSettings(_connection, Address))
            .SelectAsync(1, async c =>
            {
                await settle(c);
                return c.Message;
            })
            .Take(count)
            .ToMaterialized(Sink.Seq<Amqp10Message>(), Keep.Both)
            .Run(_materializer);
        var messages = await done.WaitAsync(TimeSpan.FromSeconds(60));
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return messages;
    }
}
