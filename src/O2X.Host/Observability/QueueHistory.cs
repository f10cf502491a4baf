using O2X.Host.Hosting;

namespace O2X.Host.Observability;

/// <summary>One queue's counters and broker-side figures at one moment.</summary>
internal sealed record QueuePoint(string Queue, long Received, long Processed, long Duplicates, long Rejected, long DeadLettered, long Failed, long InFlight, long? Depth,
    long? Consumers, long? Lag);

internal sealed record HistorySample(DateTimeOffset At, IReadOnlyList<QueuePoint> Queues);

/// <summary>
/// The last 15 minutes of every bound queue's counters on this node, sampled every 5 seconds, for the web console's
/// live charts (rates are differences between samples). Kept in memory: a restarted node starts a new history.
/// </summary>
internal sealed class QueueHistory(O2XSettings settings, O2XMetrics metrics) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    private readonly Queue<HistorySample> _samples = new();
    private readonly Lock _lock = new();

    /// <summary>The samples of the window, oldest first, and one taken now.</summary>
    public IReadOnlyList<HistorySample> Samples()
    {
        var now = Sample();
        lock (_lock) return [.. _samples, now];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            var sample = Sample();
            lock (_lock)
            {
                _samples.Enqueue(sample);
                while (_samples.Count > 0 && _samples.Peek().At < sample.At - Window) _samples.Dequeue();
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private HistorySample Sample() => new(DateTimeOffset.UtcNow, settings.Bindings.Keys.Order(StringComparer.Ordinal).Select(q =>
    {
        var c = metrics.Snapshot(q);
        var broker = metrics.BrokerSideOf(q);
        return new QueuePoint(q, c.Received, c.Processed, c.Duplicates, c.Rejected, c.DeadLettered, c.Failed, c.InFlight, broker?.Depth, broker?.Consumers, broker?.Lag);
    }).ToList());
}
