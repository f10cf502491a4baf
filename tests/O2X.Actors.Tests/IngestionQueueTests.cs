using Akka.Streams;
using Akka.TestKit.Xunit2;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public sealed class IngestionQueueTests : TestKit
{
    private readonly IMaterializer _materializer;

    public IngestionQueueTests() => _materializer = Sys.Materializer();

    [Fact]
    public async Task The_caller_learns_the_outcome_once_the_handler_finished()
    {
        await using var queue = new IngestionQueue("TEST", new ScriptedHandler(), 8, HandlingSettings.Default, _materializer);

        var outcome = await queue.TryEnqueue(ScriptedHandler.Envelope("hello"))!;

        outcome.Should().BeOfType<HandlingOutcome.Processed>().Which.Facts["body"].Should().Be("hello");
    }

    [Fact]
    public async Task A_full_queue_refuses_instead_of_buffering_and_accepts_again_once_drained()
    {
        var handler = new ScriptedHandler();
        var settings = HandlingSettings.Default.WithParallelism(1).WithMaxHeld(1);
        await using var queue = new IngestionQueue("TEST", handler, 2, settings, _materializer);

        var accepted = new List<Task<HandlingOutcome>>();
        Task<HandlingOutcome>? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            var task = queue.TryEnqueue(ScriptedHandler.Envelope("wait"));
            if (task is null) refused = Task.FromResult<HandlingOutcome>(null!);
            else accepted.Add(task);
        }

        refused.Should().NotBeNull("a bounded queue must refuse at some point");
        accepted.Count.Should().BeInRange(2, 2 + 1 + 1, "queue capacity plus what the handling stage holds");
        handler.Gate.SetResult();
        (await Task.WhenAll(accepted)).Should().AllBeOfType<HandlingOutcome.Processed>();
        (await queue.TryEnqueue(ScriptedHandler.Envelope("after"))!).Should().BeOfType<HandlingOutcome.Processed>();
    }

    [Fact]
    public async Task Disposing_finishes_accepted_messages_and_then_refuses_new_ones()
    {
        var handler = new ScriptedHandler();
        var queue = new IngestionQueue("TEST", handler, 8, HandlingSettings.Default, _materializer);
        var inFlight = queue.TryEnqueue(ScriptedHandler.Envelope("wait"))!;

        var disposing = queue.DisposeAsync().AsTask();
        queue.TryEnqueue(ScriptedHandler.Envelope("late")).Should().BeNull();
        disposing.IsCompleted.Should().BeFalse("the accepted message is still running");
        handler.Gate.SetResult();
        await disposing;

        (await inFlight).Should().BeOfType<HandlingOutcome.Processed>();
    }
}
