using System.Collections.Concurrent;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Actors.Messaging.Bindings;
using O2X.Streams.Connectors;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public sealed class BrokerBindingTests : TestKit
{
    [Fact]
    public async Task A_settlement_that_fails_under_a_lost_connection_does_not_stop_the_binding()
    {
        var settled = new ConcurrentQueue<string>();
        // The second message's ack meets a connection that is already gone.
        var deliveries = new[] { "m-1", "m-2", "m-3" }
            .Select(id => new Committable<MessageEnvelope>(ScriptedHandler.Envelope("ok", id), new Handle(id, settled, failCommit: id == "m-2")))
            .ToList();
        var source = Source.From(deliveries).MapMaterializedValue(_ => (IConsumerControl)new NoControl());

        var binding = BrokerBinding.Run("TEST", source, m => m, new ScriptedHandler(), HandlingSettings.Default.WithParallelism(1),
            BrokerBindingSettings.Default, Sys.Materializer());
        await binding.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        binding.Completion.IsCompletedSuccessfully.Should().BeTrue("the binding's stream carried on after the failed ack");
        settled.Should().Equal("commit m-1", "commit m-3");
        binding.Counters.Acked.Should().Be(2);
        binding.Counters.Released.Should().Be(1, "the message whose ack failed is left to the broker to redeliver");
        binding.Counters.InFlight.Should().Be(0);
    }

    private sealed class Handle(string id, ConcurrentQueue<string> settled, bool failCommit) : ICommitHandle
    {
        public ValueTask CommitAsync(CancellationToken cancellation = default)
        {
            if (failCommit) throw new IOException("connection reset by peer");
            settled.Enqueue("commit " + id);
            return ValueTask.CompletedTask;
        }

        public ValueTask ReleaseAsync(CancellationToken cancellation = default)
        {
            settled.Enqueue("release " + id);
            return ValueTask.CompletedTask;
        }

        public ValueTask RejectAsync(CancellationToken cancellation = default)
        {
            settled.Enqueue("reject " + id);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class NoControl : IConsumerControl
    {
        public ConnectionStatus Status { get; } = new("test");

        public Task StopAsync(TimeSpan? drainTimeout = null) => Task.CompletedTask;
    }
}
