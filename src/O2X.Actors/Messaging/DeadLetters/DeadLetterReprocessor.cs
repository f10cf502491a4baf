using Akka.Actor;
using Akka.Event;
using O2X.Actors.Persistence;

namespace O2X.Actors.Messaging.DeadLetters;

/// <summary>
/// The scheduled dead-letter reprocessor (seed §5.3 DLQReprocessor, seed 001 DeadLetterQueueMonitor), a
/// cluster singleton: on every tick it requeues the dead letters its binding's <see cref="DeadLetterPolicy"/>
/// deems transient and turns the rest into incidents (recorded, logged at error level, listed by the API).
/// Requeues interrupted by a crash are released again after <c>staleAfter</c>.
/// </summary>
internal sealed class DeadLetterReprocessor : ReceiveActor, IWithTimers
{
    private const int PageSize = 500;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeSpan _interval;
    private bool _running;

    public DeadLetterReprocessor(DeadLetterStore letters, DeadLetterRequeuer requeuer, Func<string, DeadLetterPolicy> policyFor, TimeSpan interval,
        TimeSpan staleAfter)
    {
        _interval = interval;
        Receive<Tick>(_ =>
        {
            if (_running) return; // a long run is still going: skip this tick rather than run twice at once
            _running = true;
            RunAsync(letters, requeuer, policyFor, staleAfter).PipeTo(Self);
        });
        Receive<Summary>(s =>
        {
            _running = false;
            if (s.Requeued + s.Incidents + s.Released > 0)
                _log.Info("Dead-letter reprocessing: {0} requeued, {1} incidents, {2} interrupted requeues released", s.Requeued, s.Incidents, s.Released);
        });
        Receive<Status.Failure>(f =>
        {
            _running = false;
            _log.Warning(f.Cause, "Dead-letter reprocessing failed; next run in {0}", interval);
        });
    }

    protected override void PreStart() => Timers.StartPeriodicTimer("reprocess", Tick.Instance, _interval);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(DeadLetterStore letters, DeadLetterRequeuer requeuer, Func<string, DeadLetterPolicy> policyFor, TimeSpan interval,
        TimeSpan staleAfter) =>
        Akka.Actor.Props.Create(() => new DeadLetterReprocessor(letters, requeuer, policyFor, interval, staleAfter));

    private async Task<Summary> RunAsync(DeadLetterStore letters, DeadLetterRequeuer requeuer, Func<string, DeadLetterPolicy> policyFor, TimeSpan staleAfter)
    {
        var released = 0;
        foreach (var id in await letters.StaleRequeuesAsync(staleAfter))
        {
            await letters.ReleaseStaleRequeueAsync(id);
            released++;
        }

        int requeued = 0, incidents = 0;
        long after = 0;
        while (true)
        {
            var page = await letters.QueryAsync(new DeadLetterFilter(Status: DeadLetterStatus.Dead), after, PageSize);
            if (page.Count == 0) break;
            foreach (var letter in page)
            {
                after = letter.Id;
                if (policyFor(letter.Queue).IncidentReason(letter, DateTime.UtcNow) is { } reason)
                {
                    await letters.MarkIncidentAsync(letter.Id, reason);
                    _log.Error($"Incident: dead letter {letter.Id} (message {letter.MessageId} on {letter.Queue}, {letter.Attempts} attempts, " +
                               $"{letter.ExceptionType}: {letter.ExceptionMessage}) needs a human: {reason}");
                    incidents++;
                }
                else if (await requeuer.RequeueAsync(letter.Id) == RequeueResult.Requeued)
                {
                    requeued++;
                }
            }
        }

        return new Summary(requeued, incidents, released);
    }

    /// <summary>Run now (operators and tests); the periodic schedule goes on.</summary>
    public sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Summary(int Requeued, int Incidents, int Released);
}
