using Akka.Streams;
using Akka.Streams.Stage;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// Runs an asynchronous function over elements with bounded concurrency while keeping per-key order:
/// at most one element per key is in flight, later elements for a busy key wait (in arrival order)
/// without blocking elements of other keys. Results are emitted as they complete.
/// </summary>
/// <remarks>
/// Guarantees: at most <c>parallelism</c> functions run at once; at most <c>maxHeld</c> elements are
/// inside the stage (running, waiting behind their key, or completed but not yet pulled), after which
/// it backpressures. A faulted task fails the stage: callers map expected failures to values.
/// </remarks>
internal sealed class KeyedSelectAsync<TIn, TOut> : GraphStage<FlowShape<TIn, TOut>>
{
    private readonly int _parallelism;
    private readonly int _maxHeld;
    private readonly Func<TIn, string> _keyOf;
    private readonly Func<TIn, Task<TOut>> _run;

    public KeyedSelectAsync(int parallelism, int maxHeld, Func<TIn, string> keyOf, Func<TIn, Task<TOut>> run)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeld, parallelism);
        _parallelism = parallelism;
        _maxHeld = maxHeld;
        _keyOf = keyOf;
        _run = run;
        Shape = new FlowShape<TIn, TOut>(In, Out);
    }

    public Inlet<TIn> In { get; } = new("KeyedSelectAsync.in");
    public Outlet<TOut> Out { get; } = new("KeyedSelectAsync.out");
    public override FlowShape<TIn, TOut> Shape { get; }

    protected override Attributes InitialAttributes => Attributes.CreateName("keyedSelectAsync");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : InAndOutGraphStageLogic
    {
        private readonly KeyedSelectAsync<TIn, TOut> _stage;
        private readonly Dictionary<string, Queue<TIn>> _busyKeys = new(StringComparer.Ordinal);
        private readonly Queue<TIn> _runnable = new();
        private readonly Queue<TOut> _completed = new();
        private readonly Action<(string Key, Task<TOut> Task)> _onCompleted;
        private int _running;
        private int _waiting;

        public Logic(KeyedSelectAsync<TIn, TOut> stage) : base(stage.Shape)
        {
            _stage = stage;
            _onCompleted = GetAsyncCallback<(string Key, Task<TOut> Task)>(r => Completed(r.Key, r.Task));
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        private int Held => _running + _waiting + _completed.Count;

        public override void OnPush()
        {
            var element = Grab(_stage.In);
            var key = _stage._keyOf(element);
            if (_busyKeys.TryGetValue(key, out var waiting))
            {
                waiting.Enqueue(element);
                _waiting++;
            }
            else
            {
                _busyKeys.Add(key, new Queue<TIn>());
                _runnable.Enqueue(element);
                _waiting++;
            }

            StartRunnable();
            PullIfRoom();
        }

        public override void OnUpstreamFinish()
        {
            if (Held == 0) CompleteStage();
        }

        public override void OnPull()
        {
            if (_completed.Count > 0) Push(_stage.Out, _completed.Dequeue());
            if (_completed.Count == 0 && Held == 0 && IsClosed(_stage.In)) CompleteStage();
            else PullIfRoom();
        }

        private void StartRunnable()
        {
            while (_running < _stage._parallelism && _runnable.TryDequeue(out var element))
            {
                _waiting--;
                _running++;
                var key = _stage._keyOf(element);
                Task<TOut> task;
                try
                {
                    task = _stage._run(element);
                }
                catch (Exception ex)
                {
                    task = Task.FromException<TOut>(ex);
                }

                if (task.IsCompleted) Completed(key, task);
                else task.ContinueWith(t => _onCompleted((key, t)), TaskContinuationOptions.ExecuteSynchronously);
            }
        }

        private void Completed(string key, Task<TOut> task)
        {
            _running--;
            if (!task.IsCompletedSuccessfully)
            {
                FailStage(task.Exception?.GetBaseException() ?? new TaskCanceledException(task));
                return;
            }

            var next = _busyKeys[key];
            if (next.TryDequeue(out var element)) _runnable.Enqueue(element);
            else _busyKeys.Remove(key);

            if (IsAvailable(_stage.Out)) Push(_stage.Out, task.Result);
            else _completed.Enqueue(task.Result);

            StartRunnable();
            if (Held == 0 && IsClosed(_stage.In)) CompleteStage();
            else PullIfRoom();
        }

        private void PullIfRoom()
        {
            if (Held < _stage._maxHeld && !HasBeenPulled(_stage.In) && !IsClosed(_stage.In)) Pull(_stage.In);
        }
    }
}
