using System.Collections.Concurrent;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Streams.Connectors;

namespace O2X.Streams.Tests;

/// <summary>
/// The reconnecting source's session lifecycle with sessions of our own (no broker): which session is closed when the stage
/// stops at an awkward moment. A session left open holds the broker's prefetch unacknowledged — RabbitMQ, for one, gives
/// those messages to no other consumer until the connection ends.
/// </summary>
public sealed class ReconnectingSourceStageTests : TestKit
{
    private readonly IMaterializer _materializer;

    public ReconnectingSourceStageTests() => _materializer = Sys.Materializer();

    [Fact]
    public async Task A_session_that_delivers_before_the_stage_hears_of_its_open_is_closed_when_that_message_ends_the_stream()
    {
        // A broker delivers as soon as the consumer is registered, so the first message can reach the stage before the completed
        // open does; a downstream that completes on it stops the stage while the open is still on its way.
        var stage = DeliveringOnOpen("m-1");

        var (control, done) = Source.FromGraph(stage).Take(1).ToMaterialized(Sink.Seq<Committable<string>>(), Keep.Both).Run(_materializer);
        var seen = await done.WaitAsync(TimeSpan.FromSeconds(10));
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));

        seen.Select(c => c.Message).Should().Equal("m-1");
        stage.Sessions.Should().ContainSingle().Which.Disposed.Should().BeTrue("the stopped stage's session must not stay connected");
    }

    [Fact]
    public async Task A_session_still_opening_when_the_source_stops_is_closed_once_it_opens()
    {
        var opening = new TaskCompletionSource<FakeSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stage = new FakeStage(open: _ => opening.Task);
        var (control, _) = Source.FromGraph(stage).ToMaterialized(Sink.Ignore<Committable<string>>(), Keep.Both).Run(_materializer);
        await stage.OpenCalled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stopping = control.StopAsync();
        var session = new FakeSession();
        opening.SetResult(session);
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        session.Disposed.Should().BeTrue();
    }

    [Fact]
    public async Task Stopping_closes_the_session_it_consumed_from()
    {
        var stage = DeliveringOnOpen("m-1");
        var (control, done) = Source.FromGraph(stage)
            .SelectAsync(1, async c =>
            {
                await c.Handle.CommitAsync();
                return c.Message;
            })
            .ToMaterialized(Sink.Seq<string>(), Keep.Both).Run(_materializer);
        await Eventually(() => stage.Sessions.Any(s => s.Committed == 1));

        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));

        (await done.WaitAsync(TimeSpan.FromSeconds(10))).Should().Equal("m-1");
        stage.Sessions.Should().ContainSingle().Which.Disposed.Should().BeTrue();
    }

    /// <summary>A stage whose session delivers <paramref name="message"/> while it is being opened, as a broker may.</summary>
    private static FakeStage DeliveringOnOpen(string message) => new(open: events =>
    {
        var session = new FakeSession();
        events.Deliver(session.Emit(message));
        return Task.FromResult(session);
    });

    private static Task Eventually(Func<bool> condition) =>
        O2X.Testing.Eventually.TrueAsync(condition, TimeSpan.FromSeconds(10), "the condition holds");

    private sealed class FakeStage(Func<IConsumerSessionEvents<string>, Task<FakeSession>> open)
        : ReconnectingSourceStage<string>("fake", ReconnectBackoff.Default)
    {
        public ConcurrentQueue<FakeSession> Sessions { get; } = new();

        public TaskCompletionSource OpenCalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<IConsumerSession> OpenAsync(IConsumerSessionEvents<string> events, CancellationToken cancellation)
        {
            OpenCalled.TrySetResult();
            var session = await open(events);
            Sessions.Enqueue(session);
            return session;
        }
    }

    private sealed class FakeSession : IConsumerSession
    {
        private int _outstanding;
        private volatile bool _disposed;
        private int _committed;

        public FakeSession() => Handle = new CommitHandle(this);

        private ICommitHandle Handle { get; }

        /// <summary>A message of this session, outstanding until its handle settles it.</summary>
        public Committable<string> Emit(string message)
        {
            Interlocked.Increment(ref _outstanding);
            return new Committable<string>(message, Handle);
        }

        public bool Disposed => _disposed;

        public int Committed => Volatile.Read(ref _committed);

        public int Outstanding => Volatile.Read(ref _outstanding);

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }

        private sealed class CommitHandle(FakeSession session) : ICommitHandle
        {
            public ValueTask CommitAsync(CancellationToken cancellation = default)
            {
                Interlocked.Increment(ref session._committed);
                Interlocked.Decrement(ref session._outstanding);
                return ValueTask.CompletedTask;
            }

            public ValueTask ReleaseAsync(CancellationToken cancellation = default)
            {
                Interlocked.Decrement(ref session._outstanding);
                return ValueTask.CompletedTask;
            }

            public ValueTask RejectAsync(CancellationToken cancellation = default) => ReleaseAsync(cancellation);
        }
    }
}
