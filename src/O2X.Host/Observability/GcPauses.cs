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
    private PauseListener? _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener ??= new PauseListener(metrics.GcPaused);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _listener = null;
    }

    /// <summary>
    /// Pairs the runtime's <c>GCSuspendEEBegin</c> with the next <c>GCRestartEEEnd</c>; the generation is that of the last
    /// <c>GCStart</c> seen by then (a background collection's later pause counts as generation 2). The runtime delivers its
    /// events to listeners on one dispatching thread, in order, with the time each was raised.
    /// </summary>
    private sealed class PauseListener : EventListener
    {
        private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
        private const EventKeywords GcKeyword = (EventKeywords)0x1;
        private const int GcStart = 1;
        private const int GcRestartEeEnd = 3;
        private const int GcSuspendEeBegin = 9;

        // Assigned after the base constructor, which may already announce the runtime's source (and events may follow).
        private volatile Action<int, TimeSpan>? _record;
        private DateTime _suspended;
        private int _generation = 2;

        public PauseListener(Action<int, TimeSpan> record) => _record = record;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == RuntimeSource) EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            switch (e.EventId)
            {
                case GcSuspendEeBegin:
                    _suspended = e.TimeStamp;
                    break;
                case GcStart when Depth(e) is { } depth:
                    _generation = (int)Math.Min(depth, 2);
                    break;
                case GcRestartEeEnd when _suspended != default:
                    var paused = e.TimeStamp - _suspended;
                    _suspended = default;
                    if (paused >= TimeSpan.Zero) _record?.Invoke(_generation, paused);
                    break;
            }
        }

        private static uint? Depth(EventWrittenEventArgs e) =>
            e.PayloadNames is { } names && names.IndexOf("Depth") is >= 0 and var at && e.Payload is { } payload && payload[at] is uint depth ? depth : null;
    }
}
