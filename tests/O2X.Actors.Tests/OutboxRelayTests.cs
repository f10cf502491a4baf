using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit.Xunit2;
using O2X.Actors.Hosting;
using O2X.Actors.Messaging.Outbox;
using O2X.Actors.Persistence;
using O2X.Actors.Messaging.Bindings;
using O2X.Streams.Connectors;
using O2X.Testing;

namespace O2X.Actors.Tests;

/// <summary>The outbox relay on a private PostgreSQL server that the test takes away at the worst moment.</summary>
public sealed class OutboxRelayTests : TestKit
{
    private const string Destination = "RELAY_TEST";

    [Fact]
    public async Task A_database_outage_after_the_broker_confirmed_a_batch_publishes_nothing_twice()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var persistence = new PersistenceOptions { ConnectionString = postgres.ConnectionString };
        DatabasePreparation.Prepare(persistence);
        var store = new OutboxStore(new O2XDatabase(persistence));
        const int count = 250;
        await store.AppendAsync("test-producer", 0, 1, [.. Enumerable.Range(1, count).Select(n =>
            new OutboundMessage(Destination, $"m-{n}", null, $"{{\"n\":{n}}}", new Dictionary<string, string>()))]);

        // The database goes away right after the broker confirmed the first batch, before the relay stores its offset.
        var outage = 0;
        var publisher = new RecordingPublisher(onPublished: async id =>
        {
            if (id == "m-100" && Interlocked.Exchange(ref outage, 1) == 0) await postgres.StopAsync();
        });
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        Sys.ActorOf(OutboxRelay.Props(store, new OutboxOptions { BatchSize = 100, PollInterval = TimeSpan.FromMilliseconds(20) },
            new Dictionary<string, Func<IOutboundPublisher>> { [Destination] = () => publisher }));

        warnings.FishForMessage<Warning>(w => w.Message.ToString()!.StartsWith("Outbox relay to " + Destination + " failed", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60));
        await postgres.StartAgainAsync();

        await Eventually.TrueAsync(async () => await store.ReadOffsetAsync(OutboxRelay.OffsetPrefix + Destination) == count, TimeSpan.FromSeconds(90),
            "the relay records that it published everything");
        publisher.Published.Should().Equal(Enumerable.Range(1, count).Select(n => $"m-{n}"),
            "the batch the broker confirmed before the outage is recorded, not published again");
    }

    [Fact]
    public async Task Stopping_the_relay_closes_its_publishers()
    {
        // A publisher is a broker connection or a Kafka producer: one left open when its relay stops (a singleton handed over,
        // a node shut down) stays connected — a Kafka producer reconnecting to its brokers — until the process ends.
        using var data = new TempDirectory();
        var persistence = new PersistenceOptions { SqlitePath = data.File("o2x.db") };
        DatabasePreparation.Prepare(persistence);
        var store = new OutboxStore(new O2XDatabase(persistence));
        await store.AppendAsync("test-producer", 0, 1, [new OutboundMessage(Destination, "m-1", null, "{}", new Dictionary<string, string>())]);
        var publisher = new RecordingPublisher(onPublished: _ => Task.CompletedTask);
        var relay = Sys.ActorOf(OutboxRelay.Props(store, new OutboxOptions { BatchSize = 100, PollInterval = TimeSpan.FromMilliseconds(20) },
            new Dictionary<string, Func<IOutboundPublisher>> { [Destination] = () => publisher }));
        await Eventually.TrueAsync(() => publisher.Published.Count == 1, TimeSpan.FromSeconds(30), "the relay is publishing");

        Sys.Stop(relay);

        await Eventually.TrueAsync(() => publisher.Disposed, TimeSpan.FromSeconds(30), "the stopped relay closes its publisher");
    }

    private sealed class RecordingPublisher(Func<string, Task> onPublished) : IOutboundPublisher
    {
        private readonly ConcurrentQueue<string> _published = new();
        private volatile bool _disposed;

        public bool Disposed => _disposed;

        public IReadOnlyList<string> Published => [.. _published];

        public string Destination => OutboxRelayTests.Destination;

        public ConnectionStatus Status { get; } = new(OutboxRelayTests.Destination);

        public async Task PublishBatchAsync(IReadOnlyList<OutboundEnvelope> batch, CancellationToken cancellation)
        {
            foreach (var message in batch)
            {
                _published.Enqueue(message.MessageId);
                await onPublished(message.MessageId);
            }
        }

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
