using Akka.Streams;
using Akka.Streams.Stage;

namespace O2X.Streams.Connectors;

/// <summary>Controls a running consumer: the connection state, and a graceful stop.</summary>
public interface IConsumerControl
{
    ConnectionStatus Status { get; }

    /// <summary>
    /// Graceful drain: stop taking new messages, let those already emitted be settled, acknowledge them, then
    /// close — at the latest after <paramref name="drainTimeout"/> (default 30 s), when what is still unsettled is
    /// left to the broker to redeliver. Completes when the source has stopped.
    /// </summary>
    Task StopAsync(TimeSpan? drainTimeout = null);
}

/// <summary>One connection's worth of consuming, opened by a <see cref="ReconnectingSourceStage{TMessage}"/>.</summary>
internal interface IConsumerSession : IAsyncDisposable
{
    /// <summary>Messages emitted and not settled yet.</summary>
    int Outstanding { get; }
}

/// <summary>What a session reports to its stage; thread-safe, and ignored once the session is outdated.</summary>
internal interface IConsumerSessionEvents<TMessage>
{
    void Deliver(Committable<TMessage> message);

    /// <summary>The connection or link is gone: the stage reconnects.</summary>
    void Lost(string reason);

    /// <summary>A handle of this session settled a message.</summary>
    void Settled();

    /// <summary>The session is still open but cannot reach its broker (the client library reconnects by itself).</summary>
    void Degraded(string reason);

    /// <summary>The session reaches its broker again after <see cref="Degraded"/>.</summary>
    void Recovered();

    /// <summary>An error worth showing that changes nothing (e.g. a commit refused during a rebalance, retried).</summary>
    void Note(string error);
}

/// <summary>
/// A source over a broker connection that reconnects by itself: it opens a session, emits what the session
/// delivers (buffering at most what the broker's prefetch or credit allows), and when the session is lost it
/// drops what it had not emitted (the broker redelivers it) and opens a new one after a backoff. A stop drains:
/// unemitted messages are released, the stage waits until the emitted ones are settled, then closes.
/// </summary>
internal abstract class ReconnectingSourceStage<TMessage>(string name, ReconnectBackoff backoff)
    : GraphStageWithMaterializedValue<SourceShape<Committable<TMessage>>, IConsumerControl>
{
    private readonly Outlet<Committable<TMessage>> _out = new(name + ".out");

    public override SourceShape<Committable<TMessage>> Shape => new(_out);

    protected override Attributes InitialAttributes => Attributes.CreateName(name);

    /// <summary>Connects and starts consuming; deliveries and loss go to <paramref name="events"/>.</summary>
    protected abstract Task<IConsumerSession> OpenAsync(IConsumerSessionEvents<TMessage> events, CancellationToken cancellation);

    public override ILogicAndMaterializedValue<IConsumerControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var logic = new Logic(this);
        return new LogicAndMaterializedValue<IConsumerControl>(logic, logic);
    }

    private sealed class Logic : TimerGraphStageLogic, IConsumerControl
    {
        private readonly ReconnectingSourceStage<TMessage> _stage;
        private readonly Queue<Committable<TMessage>> _buffer = new();
        private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<Task> _closings = [];
        private readonly CancellationTokenSource _closing = new();
        private Action<(int, IConsumerSession)> _onOpened = null!;
        private Action<(int, Exception)> _onOpenFailed = null!;
        private Action<(int, Committable<TMessage>)> _onDelivery = null!;
        private Action<(int, string)> _onLost = null!;
        private Action<TimeSpan> _onStopRequested = null!;
        private Action _onSettled = null!;
        private Action<(int, string?)> _onHealth = null!;
        private const string DrainTimeout = "drain-timeout";
        private int _generation;
        private int _attempt;
        private IConsumerSession? _session;
        // Sessions being opened whose outcome the stage has not taken in yet, by generation. An open can complete — and its
        // session deliver — before the stage hears of it; if the stage stops in between, only this map still knows the session.
        private readonly Dictionary<int, Task<IConsumerSession>> _openings = [];
        private bool _stopping;

        public Logic(ReconnectingSourceStage<TMessage> stage) : base(stage.Shape)
        {
            _stage = stage;
            Status = new ConnectionStatus(stage._out.Name);
            SetHandler(stage._out, onPull: () =>
            {
                if (_buffer.Count > 0) Push(_stage._out, _buffer.Dequeue());
            }, onDownstreamFinish: _ =>
            {
                _stopping = true;
                CloseAndComplete();
            });
        }

        public ConnectionStatus Status { get; }

        public Task StopAsync(TimeSpan? drainTimeout = null)
        {
            _onStopRequested(drainTimeout ?? TimeSpan.FromSeconds(30));
            return _stopped.Task;
        }

        public override void PreStart()
        {
            _onOpened = GetAsyncCallback<(int, IConsumerSession)>(OnOpened);
            _onOpenFailed = GetAsyncCallback<(int, Exception)>(OnOpenFailed);
            _onDelivery = GetAsyncCallback<(int, Committable<TMessage>)>(OnDelivery);
            _onLost = GetAsyncCallback<(int, string)>(OnLost);
            _onStopRequested = GetAsyncCallback<TimeSpan>(OnStopRequested);
            _onSettled = GetAsyncCallback(CompleteIfDrained);
            _onHealth = GetAsyncCallback<(int, string?)>(OnHealth);
            Open();
        }

        public override void PostStop()
        {
            Status.Set(ConnectionState.Stopped);
            _closing.Cancel();
            var session = _session;
            _session = null;
            if (session is not null) _ = CloseQuietlyAsync(session);
            // A session opened (or still opening) that the stage has not taken in would never reach it (callbacks of a stopped
            // stage are dropped): close it, or it would hold the broker's prefetch unacknowledged until the process ends. This
            // includes a session whose open completed — and which delivered the message that ended the stream — before the
            // stage heard of the open.
            foreach (var opening in _openings.Values)
                _closings.Add(opening.ContinueWith(t => t.IsCompletedSuccessfully ? CloseAsync(t.Result) : Task.CompletedTask, TaskScheduler.Default).Unwrap());
            _openings.Clear();
            // Stopped means closed: the consumer has settled with the broker (committed, left its group).
            Task.WhenAll(_closings).ContinueWith(_ => _stopped.TrySetResult(), TaskScheduler.Default);
        }

        protected override void OnTimer(object timerKey)
        {
            if (Equals(timerKey, DrainTimeout)) CloseAndComplete();
            else Open();
        }

        private void Open()
        {
            var generation = ++_generation;
            Status.Set(_attempt == 0 ? ConnectionState.Connecting : ConnectionState.Reconnecting);
            var opening = _stage.OpenAsync(new Events(this, generation), _closing.Token);
            _openings[generation] = opening;
            opening.ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully) _onOpened((generation, t.Result));
                else _onOpenFailed((generation, t.Exception?.GetBaseException() ?? new OperationCanceledException()));
            }, TaskScheduler.Default);
        }

        private void OnOpened((int Generation, IConsumerSession Session) opened)
        {
            _openings.Remove(opened.Generation);
            if (opened.Generation != _generation || _stopping)
            {
                _ = CloseQuietlyAsync(opened.Session);
                if (_stopping && _session is null) CompleteStage();
                return;
            }

            _session = opened.Session;
            _attempt = 0;
            Status.Set(ConnectionState.Connected);
        }

        private void OnOpenFailed((int Generation, Exception Error) failed)
        {
            _openings.Remove(failed.Generation);
            if (failed.Generation == _generation) Reconnect(failed.Error.Message);
        }

        private void OnDelivery((int Generation, Committable<TMessage> Message) delivery)
        {
            if (delivery.Generation != _generation || _stopping)
            {
                // Outdated session or stopping: give it back (a no-op if its session is gone; the broker redelivers).
                _ = delivery.Message.Handle.ReleaseAsync();
                return;
            }

            if (IsAvailable(_stage._out) && _buffer.Count == 0) Push(_stage._out, delivery.Message);
            else _buffer.Enqueue(delivery.Message);
        }

        private void OnLost((int Generation, string Reason) lost)
        {
            if (lost.Generation != _generation) return;
            // Whatever this generation still reports (a late open, a late delivery) is outdated from now on.
            _generation++;
            _buffer.Clear(); // never emitted: the broker redelivers them
            var session = _session;
            _session = null;
            if (session is not null) _ = CloseQuietlyAsync(session);
            if (_stopping) CompleteStage();
            else Reconnect(lost.Reason);
        }

        private void OnHealth((int Generation, string? Problem) health)
        {
            if (health.Generation != _generation || _session is null || _stopping) return;
            if (health.Problem is null) Status.Set(ConnectionState.Connected);
            else Status.Set(ConnectionState.Reconnecting, health.Problem);
        }

        private void Reconnect(string reason)
        {
            if (_stopping)
            {
                CompleteStage();
                return;
            }

            _attempt++;
            Status.Set(ConnectionState.Reconnecting, reason);
            ScheduleOnce("reconnect", _stage._backoff.Delay(_attempt));
        }

        private void OnStopRequested(TimeSpan drainTimeout)
        {
            if (_stopping) return;
            _stopping = true;
            CancelTimer("reconnect");
            ScheduleOnce(DrainTimeout, drainTimeout);
            while (_buffer.TryDequeue(out var unsent)) _ = unsent.Handle.ReleaseAsync();
            if (_session is null) CompleteStage();
            else CompleteIfDrained();
        }

        private void CompleteIfDrained()
        {
            if (_stopping && _session is not { Outstanding: > 0 }) CloseAndComplete();
        }

        private void CloseAndComplete()
        {
            _buffer.Clear();
            var session = _session;
            _session = null;
            if (session is not null) _ = CloseQuietlyAsync(session);
            CompleteStage();
        }

        private Task CloseQuietlyAsync(IConsumerSession session)
        {
            var closing = CloseAsync(session);
            _closings.Add(closing);
            _closings.RemoveAll(c => c.IsCompleted && c != closing);
            return closing;
        }

        private async Task CloseAsync(IConsumerSession session)
        {
            try
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Closing a session whose connection is already gone: its unsettled messages are redelivered.
                Status.RecordError("closing: " + ex.Message);
            }
        }

        private sealed class Events(Logic logic, int generation) : IConsumerSessionEvents<TMessage>
        {
            public void Deliver(Committable<TMessage> message) => logic._onDelivery((generation, message));

            public void Lost(string reason) => logic._onLost((generation, reason));

            public void Settled() => logic._onSettled();

            public void Degraded(string reason) => logic._onHealth((generation, reason));

            public void Recovered() => logic._onHealth((generation, null));

            public void Note(string error) => logic.Status.RecordError(error);
        }
    }

    private readonly ReconnectBackoff _backoff = backoff;
}
