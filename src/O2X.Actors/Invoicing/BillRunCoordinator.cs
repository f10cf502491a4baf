using Akka.Actor;
using Akka.Event;
using O2X.Actors.Serialization;

namespace O2X.Actors.Invoicing;

/// <summary>Registry key of the bill-run coordinator singleton (and its proxy).</summary>
internal sealed class BillRunCoordinatorSingleton;

/// <summary>Start a run of <see cref="Period"/> (yyyy-MM) for every account or one; answered with <see cref="BillRunAccepted"/>.</summary>
internal sealed record StartBillRun(string Period, string? AccountId) : IO2XMessage;

internal sealed record BillRunAccepted(string RunId) : IO2XMessage;

/// <summary>
/// The monthly bill run's cluster singleton (seed §4.1 step 11 "schedule billing"): runs queued runs one at a time — by hand
/// (<see cref="StartBillRun"/>) or by its schedule — and on start resumes any run a stopped node left RUNNING. The schedule
/// checks every interval: each period from the one after the last closed period (a run over all accounts that left no cycle
/// unended and no account failed) up to last month gets one scheduled run per day, so cycles ending on later days are
/// billed the day after they end, and a node that was down catches up on every period it missed.
/// </summary>
internal sealed class BillRunCoordinator : ReceiveActor, IWithTimers
{
    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Queued(string RunId, DateOnly Month, string? AccountId, string Trigger);

    private sealed record Finished(string RunId, BillRunView? View, Exception? Error);

    private sealed record Planned(IReadOnlyList<Queued> Runs);

    private sealed record Accepted(Queued Run, IActorRef ReplyTo);

    private sealed record NotAccepted(IActorRef ReplyTo, Exception Error);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<Queued> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly BillRunner _runner;
    private readonly Persistence.O2XDatabase _database;
    private readonly TimeSpan? _interval;
    private readonly Func<DateTimeOffset> _clock;
    private Queued? _running;

    public BillRunCoordinator(BillRunner runner, Persistence.O2XDatabase database, TimeSpan? interval, Func<DateTimeOffset> clock)
    {
        _runner = runner;
        _database = database;
        _interval = interval;
        _clock = clock;
        Receive<StartBillRun>(start =>
        {
            if (!BillingPeriod.TryParseLabel(start.Period, out var month))
            {
                Sender.Tell(new Status.Failure(new ArgumentException($"'{start.Period}' is not a period (yyyy-MM).")));
                return;
            }

            var id = $"run-{start.Period}-{_clock().UtcDateTime:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
            var run = new Queued(id, month, start.AccountId, "MANUAL");
            var replyTo = Sender;
            // Stored as QUEUED before its id is given out, so the id can be looked up at once (and a restart starts it).
            BillRunStore.QueueAsync(_database, id, start.Period, start.AccountId, run.Trigger, _clock().UtcDateTime, _stop.Token)
                .PipeTo(Self, success: () => new Accepted(run, replyTo), failure: ex => new NotAccepted(replyTo, ex));
        });
        Receive<Accepted>(a =>
        {
            _queue.Enqueue(a.Run);
            a.ReplyTo.Tell(new BillRunAccepted(a.Run.RunId));
            Next();
        });
        Receive<NotAccepted>(n => n.ReplyTo.Tell(new Status.Failure(n.Error)));
        Receive<Planned>(p =>
        {
            foreach (var run in p.Runs.Where(r => _queue.All(q => q.RunId != r.RunId) && _running?.RunId != r.RunId)) _queue.Enqueue(run);
            Next();
        });
        Receive<Tick>(_ => PlanAsync().PipeTo(Self, failure: ex => Nothing("Bill-run schedule check failed: {0}", ex)));
        Receive<Finished>(f =>
        {
            if (f.Error is { } error) _log.Error(error, "Bill run {0} failed; it resumes at the next schedule check or restart", f.RunId);
            else
                _log.Info("Bill run {0} ({1}) finished: {2}", f.RunId, f.View!.Period,
                    $"{f.View.Invoiced} invoiced, {f.View.AlreadyBilled} already billed, {f.View.NothingToBill} nothing to bill, {f.View.NotEnded} not ended, {f.View.Failed} failed");
            if (f.View is { UnknownUsage: > 0 } unknown)
                _log.Warning("Bill run {0}: {1} RATED usage records belong to {2} account ids no account has; they stay unbilled (GET /api/billing/runs/{0})",
                    f.RunId, unknown.UnknownUsage, unknown.UnknownAccounts);
            _running = null;
            Next();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(BillRunner runner, Persistence.O2XDatabase database, TimeSpan? interval, Func<DateTimeOffset>? clock = null) =>
        Hosting.FactoryProps.Of(() => new BillRunCoordinator(runner, database, interval, clock ?? (() => DateTimeOffset.UtcNow)));

    protected override void PreStart()
    {
        // Runs a stopped node left RUNNING resume first, under their own ids.
        ResumeAsync().PipeTo(Self, failure: ex => Nothing("Could not read unfinished bill runs (the next schedule check tries again): {0}", ex));
        if (_interval is { } every) Timers.StartPeriodicTimer("schedule", Tick.Instance, TimeSpan.FromSeconds(5), every);
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task<Planned> ResumeAsync()
    {
        var unfinished = await BillRunStore.UnfinishedAsync(_database, _stop.Token);
        return new Planned([.. unfinished.Select(r => new Queued(r.RunId, Month(r.Period), r.AccountId, r.Trigger))]);
    }

    private async Task<Planned> PlanAsync()
    {
        var today = DateOnly.FromDateTime(_clock().UtcDateTime);
        var current = BillingPeriod.MonthOf(today);
        var closed = await BillRunStore.LastClosedPeriodAsync(_database, _stop.Token);
        var from = closed is not null ? Month(closed).AddMonths(1) : current.AddMonths(-1);
        var runs = new List<Queued>();
        for (var month = from; month < current; month = month.AddMonths(1))
        {
            var id = $"scheduled-{BillingPeriod.LabelOf(month)}-{today:yyyyMMdd}";
            if (await BillRunStore.GetAsync(_database, id, _stop.Token) is { Status: "COMPLETED" }) continue;
            runs.Add(new Queued(id, month, null, "SCHEDULE"));
        }

        return new Planned(runs);
    }

    private void Next()
    {
        if (_running is not null || !_queue.TryDequeue(out var run)) return;
        _running = run;
        var runner = _runner;
        var now = _clock();
        var log = _log;
        runner.RunAsync(run.RunId, run.Month, run.AccountId, run.Trigger, now, _stop.Token, retrying: r =>
                log.Warning("Bill run {0} stopped on a lost dependency ({1}: {2}); retry {3} of {4} resumes it in {5:0.0} s", r.RunId,
                    r.Cause.GetType().Name, r.Cause.Message, r.Retry, r.MaxRetries, r.Delay.TotalSeconds))
            .ContinueWith(t => new Finished(run.RunId, t.IsCompletedSuccessfully ? t.Result : null,
                t.IsCompletedSuccessfully ? null : t.Exception?.GetBaseException() ?? new OperationCanceledException()), TaskScheduler.Default)
            .PipeTo(Self);
    }

    private Planned Nothing(string message, Exception ex)
    {
        _log.Warning(message, ex.Message);
        return new Planned([]);
    }

    private static DateOnly Month(string label) =>
        BillingPeriod.TryParseLabel(label, out var month) ? month : throw new InvalidOperationException($"Stored bill run has an invalid period '{label}'.");
}
