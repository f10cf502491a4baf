using System.Collections.Concurrent;
using System.Text;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Streams.Amqp10;
using O2X.Streams.Connectors;
using O2X.Streams.Dsl;
using O2X.Testing;

namespace O2X.Streams.Tests;

/// <summary>
/// The AMQP 1.0 connector against a second implementation: Qpid Proton's example broker (Python, in memory, no SASL, queues by
/// bare address, created on first use). It takes a message off its queue when it sends it, so it has no redelivery to test;
/// everything else the connector relies on — outcomes, message ids, application properties, link credit — is the same
/// specification read by other people than RabbitMQ's plugin.
/// </summary>
public sealed class Amqp10QpidProtonTests : TestKit
{
    private readonly IMaterializer _materializer;
    private readonly Amqp10ConnectionSettings _connection = new(TestServices.QpidAmqp10Uri);
    private readonly string _address = "o2x-qpid-" + Guid.NewGuid().ToString("N")[..10];

    public Amqp10QpidProtonTests() => _materializer = Sys.Materializer();

    [Fact]
    public async Task Published_with_the_accepted_outcome_then_consumed_with_ids_and_properties()
    {
        await using (var publisher = new Amqp10Publisher(new Amqp10PublishSettings(_connection, _address)))
        {
            await Source.From(Enumerable.Range(0, 300))
                .Select(i => new Amqp10Message(Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), $"m-{i}", $"c-{i}", new Dictionary<string, string> { ["n"] = i.ToString() }))
                .Via(Amqp10Flow.PublishWithOutcome(publisher))
                .RunWith(Sink.Ignore<Amqp10Message>(), _materializer);
            publisher.Status.State.Should().Be(ConnectionState.Connected);
        }

        var (control, done) = Amqp10Source.Committable(new Amqp10SourceSettings(_connection, _address))
            .SelectAsync(1, async c =>
            {
                await c.Handle.CommitAsync();
                return c.Message;
            })
            .Take(300)
            .ToMaterialized(Sink.Seq<Amqp10Message>(), Keep.Both)
            .Run(_materializer);
        var received = await done.WaitAsync(TimeSpan.FromSeconds(60));
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        received.Select(m => m.MessageId).Should().Equal(Enumerable.Range(0, 300).Select(i => $"m-{i}"), "one queue, one consumer: in order");
        var seventh = received[7];
        seventh.CorrelationId.Should().Be("c-7");
        seventh.Properties!["n"].Should().Be("7");
        Encoding.UTF8.GetString(seventh.Body.Span).Should().Be("{\"n\":7}");
        seventh.DeliveryCount.Should().Be(0u);
    }

    [Fact]
    public async Task Link_credit_bounds_what_the_broker_sends()
    {
        await using var publisher = new Amqp10Publisher(new Amqp10PublishSettings(_connection, _address));
        for (var i = 0; i < 100; i++) await publisher.PublishAsync(new Amqp10Message("{}"u8.ToArray(), $"m-{i}"));
        var gate = new TaskCompletionSource();
        var held = new ConcurrentBag<Committable<Amqp10Message>>();
        var (control, _) = Amqp10Source.Committable(new Amqp10SourceSettings(_connection, _address).WithCredit(10))
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
        // The broker dispatches whenever a message arrives: one more publish, accepted, gives it the chance to overrun the credit.
        await publisher.PublishAsync(new Amqp10Message("{}"u8.ToArray(), "one-more"));
        held.Count.Should().Be(10, "the broker sends no more than the link credit");

        gate.SetResult();
        await Eventually.TrueAsync(() => held.Count == 101, TimeSpan.FromSeconds(30), "with the credit renewed, everything arrives");
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }
}
