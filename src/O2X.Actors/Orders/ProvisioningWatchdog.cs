using Akka.Actor;
using Akka.Event;
using O2X.Actors.Messaging;
using O2X.Actors.Persistence;

namespace O2X.Actors.Orders;

/// <summary>Registry key of the provisioning watchdog singleton.</summary>
internal sealed class ProvisioningWatchdogSingleton;

/// <summary>What an order event changes in the provisioning watch (pure: the same event always gives the same change).</summary>
internal abstract record ProvisioningWatchChange(string OrderId)
{
    /// <summary>Request <see cref="RequestId"/> went out at <see cref="RequestedAt"/>: watch it (replacing an earlier request).</summary>
    public sealed record Watch(string OrderId, string AccountId, string RequestId, DateTimeOffset RequestedAt) : ProvisioningWatchChange(OrderId);

    /// <summary>The network answered, or the order was cancelled or failed: nothing to watch.</summary>
    public sealed record Unwatch(string OrderId) : ProvisioningWatchChange(OrderId);

    public static ProvisioningWatchChange? Of(object @event) => @event switch
    {
        ProvisioningRequested e => new Watch(e.OrderId, e.AccountId, e.RequestId, e.At),
        ProvisioningCompleted e => new Unwatch(e.OrderId),
        ProvisioningFailed e => new Unwatch(e.OrderId),
        OrderCancelled e => new Unwatch(e.OrderId),
        _ => null,
    };
}

/// <summary>
/// Seed 002's saga needs every step to end: a provisioning request the network never answers would leave its order in
/// PROVISIONING for ever. The outbox projection keeps <c>o2x_provisioning_watch</c> — the outstanding requests — in the
/// transaction of the same events' outbox messages (no second journal reader: measured, a projection of its own cost
/// 13% of order intake on SQLite). This cluster singleton, every check interval, flags each request older than the timeout
/// on its order entity (PROVISIONING → STUCK, only if that request is still the one outstanding), then marks the row. A
/// crash between the two flags again at the next check, which the entity answers as a repeat.
/// </summary>
internal sealed class ProvisioningWatchdog : ReceiveActor, IWithTimers
{
    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Checked(int Overdue, int Flagged);

    /// <summary>Overdue rows handled per check at most (the rest at the next check).</summary>
    private const int CheckLimit = 500;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private readonly ProvisioningWatchStore _store;
    private readonly IActorRef _orders;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _askTimeout;

    public ProvisioningWatchdog(ProvisioningWatchStore store, IActorRef orders, TimeSpan timeout, TimeSpan interval, TimeSpan askTimeout)
    {
        _store = store;
        _orders = orders;
        _timeout = timeout;
        _interval = interval;
        _askTimeout = askTimeout;
        Receive<Tick>(_ =>
        {
            BecomeStacked(Checking);
            CheckAsync(_stop.Token).PipeTo(Self);
        });

        void Checking()
        {
            Receive<Tick>(_ => { }); // the previous check is still going
            Receive<Checked>(c =>
            {
                if (c.Overdue > 0) _log.Warning("Provisioning watchdog: {0} requests unanswered for over {1}; {2} orders flagged STUCK", c.Overdue, _timeout, c.Flagged);
                UnbecomeStacked();
            });
            Receive<Status.Failure>(f =>
            {
                _log.Warning("Provisioning watchdog check failed ({0}); trying again at the next interval", TextExcerpt.Of(f.Cause.Message, 256));
                UnbecomeStacked();
            });
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ProvisioningWatchStore store, IActorRef orders, TimeSpan timeout, TimeSpan interval, TimeSpan askTimeout) =>
        Hosting.FactoryProps.Of(() => new ProvisioningWatchdog(store, orders, timeout, interval, askTimeout));

    protected override void PreStart() => Timers.StartPeriodicTimer("check", Tick.Instance, _interval);

    protected override void PostStop() => _stop.Cancel();

    private async Task<Checked> CheckAsync(CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var overdue = await _store.OverdueAsync(now - _timeout, CheckLimit, ct);
        var flagged = 0;
        foreach (var watched in overdue)
        {
            // The message id is the request's: flagging the same request again is a repeat the entity recognises.
            var reply = await _orders.Ask<object>(new FlagProvisioningStuck(watched.OrderId, "stuck:" + watched.RequestId, watched.RequestId, _timeout, now),
                _askTimeout, ct);
            switch (reply)
            {
                case CommandDone done:
                    await _store.MarkStuckAsync(watched.OrderId, watched.RequestId, now, ct);
                    if (!done.WasDuplicate) flagged++;
                    break;
                case CommandRefused refused:
                    // The order moved on (answered, cancelled, retried) and the projection has not caught up with it yet.
                    _log.Debug("Provisioning watchdog: {0} not flagged ({1}: {2})", watched.OrderId, refused.ErrorCode, refused.Message);
                    break;
                default:
                    _log.Warning("Provisioning watchdog: unexpected answer {0} for {1}", reply.GetType().Name, watched.OrderId);
                    break;
            }
        }

        return new Checked(overdue.Count, flagged);
    }
}
