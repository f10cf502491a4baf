using System.Diagnostics.Tracing;

namespace O2X.Host.Observability;

/// <summary>
/// Every pause of the process by the runtime (a collection's suspension of all managed threads), measured from the
/// runtime's own GC events and recorded in <c>dotnet_gc_pause_duration_seconds</c>. The total pause time a minute says how
/// much the collector costs; only the length of each pause says whether it explains a latency spike, which is what an
/// operator compares a slow p99 with. Started and stopped with the node; the listener asks for the GC keyword at
/// informational level only (no allocation sampling), a few events per collection.
/// </summary>
internal sealed class GcPauses(O2XMetrics metrics) : IHostedService, IDisposable
{
    private Action<int, TimeSpan>? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_subscription is null)
        {
            _subscription = metrics.GcPaused;
            PauseListener.Subscribe(_subscription);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _subscription, null) is { } subscription) PauseListener.Unsubscribe(subscription);
    }

    /// <summary>
    /// Hands the runtime's GC events (keyword GC, informational) to a <see cref="GcPauseTracker"/> and each pause to every
    /// subscribed node. One listener per process, created at the first subscription and never disposed: the collector is the
    /// process's, and disposing listeners while others start or stop can deadlock with the runtime's event dispatcher (seen
    /// with several nodes in one test process).
    /// </summary>
    private sealed class PauseListener : EventListener
    {
        private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
        private const EventKeywords GcKeyword = (EventKeywords)0x1;
        private const int GcStart = 1;
        private const int GcEnd = 2;
        private const int GcRestartEeEnd = 3;
        private const int GcSuspendEeBegin = 9;

        private static readonly Lock Gate = new();
        private static PauseListener? _instance;
        private static Action<int, TimeSpan>[] _subscribers = [];

        private readonly GcPauseTracker _tracker = new();

        public static void Subscribe(Action<int, TimeSpan> record)
        {
            lock (Gate)
            {
                _subscribers = [.. _subscribers, record];
                _instance ??= new PauseListener();
            }
        }

        public static void Unsubscribe(Action<int, TimeSpan> record)
        {
            lock (Gate) _subscribers = [.. _subscribers.Where(s => !ReferenceEquals(s, record))];
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == RuntimeSource) EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            // _tracker is a field initializer, so it is set before the base constructor can announce the runtime's source.
            var tracker = _tracker;
            switch (e.EventId)
            {
                case GcSuspendEeBegin:
                    tracker.Suspending(e.TimeStamp, Field(e, "Reason") ?? 0);
                    break;
                case GcStart when Field(e, "Count") is { } count && Field(e, "Depth") is { } depth:
                    tracker.Started(count, depth, Field(e, "Type") ?? 0);
                    break;
                case GcEnd when Field(e, "Count") is { } count:
                    tracker.Ended(count);
                    break;
                case GcRestartEeEnd when tracker.Restarted(e.TimeStamp) is var (generation, paused):
                    foreach (var record in Volatile.Read(ref _subscribers)) record(generation, paused);
                    break;
            }
        }

        private static uint? Field(EventWrittenEventArgs e, string name) =>
            e.PayloadNames is { } names && names.IndexOf(name) is >= 0 and var at && e.Payload is { } payload && payload[at] is uint value ? value : null;
    }
}

/// <summary>
/// Pairs the runtime's <c>GCSuspendEEBegin</c> with the next <c>GCRestartEEEnd</c> (delivered in order on one dispatching
/// thread, each with the time it was raised) into pauses by generation. Only suspensions for a collection count: reason 1
/// (for GC), and reason 6 (GC preparation) while a background collection runs, which is that collection's final mark; the
/// runtime also suspends for other work (tiered compilation's cleanup, a write-barrier change), which is not a collection.
/// A pause is labelled with the highest generation collected in it: a background collection's first pause holds its own
/// start (generation 2) and usually an ephemeral collection after it; its final pause starts no collection.
/// </summary>
internal sealed class GcPauseTracker
{
    public const uint SuspendForGc = 1;
    public const uint SuspendForGcPrep = 6;
    public const uint BackgroundGc = 1;

    private DateTime? _suspended;
    private uint _reason;
    private int _generation = -1;
    private uint? _background;

    public void Suspending(DateTime at, uint reason)
    {
        _suspended = at;
        _reason = reason;
        _generation = -1;
    }

    public void Started(uint count, uint depth, uint type)
    {
        if (type == BackgroundGc) _background = count;
        if (_suspended is not null) _generation = Math.Max(_generation, (int)Math.Min(depth, 2));
    }

    public void Ended(uint count)
    {
        if (_background == count) _background = null;
    }

    /// <summary>The pause that ends at <paramref name="at"/>, or null when it was not a collection's.</summary>
    public (int Generation, TimeSpan Paused)? Restarted(DateTime at)
    {
        if (_suspended is not { } suspended) return null;
        _suspended = null;
        var generation = _reason switch
        {
            SuspendForGc => _generation,
            SuspendForGcPrep when _generation >= 0 => _generation,
            SuspendForGcPrep when _background is not null => 2,
            _ => -1,
        };
        return generation >= 0 && at >= suspended ? (generation, at - suspended) : null;
    }
}
