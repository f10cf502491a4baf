using Akka.Actor;
using Akka.Persistence;

namespace O2X.Actors.Orders;

/// <summary>
/// Hands out sequential order ids per day (<c>ORD-20240211-001</c>, <c>-002</c>, …) and remembers which
/// business order (correlation id) got which, so a resubmitted order gets its original id back.
/// </summary>
/// <remarks>
/// One entity per day is a deliberate hot spot: it uses <c>PersistAsync</c> so that requests arriving
/// while a write is in flight are written together in the next batch (group commit) instead of one
/// round trip each. Numbers are reserved in memory at request time, so they stay strictly sequential.
/// Correlation ids are deduplicated within the day of the order's <c>submission_timestamp</c>.
/// </remarks>
public sealed class OrderNumberAllocator : ReceivePersistentActor
{
    private readonly int _snapshotEvery;
    private readonly Dictionary<string, List<IActorRef>> _pending = new(StringComparer.Ordinal);
    private OrderNumberingState _state;
    private int _reserved;
    private int _sinceSnapshot;

    public OrderNumberAllocator(string day, int snapshotEvery)
    {
        PersistenceId = "order-numbers-" + day;
        _snapshotEvery = snapshotEvery;
        _state = OrderNumberingState.Empty(day);

        Recover<SnapshotOffer>(o => _state = (OrderNumberingState)o.Snapshot);
        Recover<OrderNumberAllocated>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => _reserved = _state.LastNumber);
        Command<AllocateOrderNumber>(Allocate);
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public override string PersistenceId { get; }

    private void Allocate(AllocateOrderNumber request)
    {
        if (_state.ByKey.TryGetValue(request.Key, out var existing))
        {
            Sender.Tell(new OrderNumberAssigned(OrderNumberingState.FormatOrderId(_state.Day, existing), IsNew: false));
            return;
        }

        if (_pending.TryGetValue(request.Key, out var waiting))
        {
            waiting.Add(Sender);
            return;
        }

        _pending[request.Key] = [Sender];
        var number = ++_reserved;
        PersistAsync(new OrderNumberAllocated(_state.Day, request.Key, number), e =>
        {
            _state = _state.Apply(e);
            var orderId = OrderNumberingState.FormatOrderId(e.Day, e.Number);
            var waiters = _pending[e.Key];
            _pending.Remove(e.Key);
            for (var i = 0; i < waiters.Count; i++) waiters[i].Tell(new OrderNumberAssigned(orderId, IsNew: i == 0));
            if (++_sinceSnapshot >= SnapshotInterval(_snapshotEvery, _state.ByKey.Count))
            {
                _sinceSnapshot = 0;
                SaveSnapshot(_state);
            }
        });
    }

    /// <summary>
    /// Events between snapshots: a snapshot holds every correlation id of the day, so taking one every
    /// <paramref name="snapshotEvery"/> events costs more with every order (the soak measured p99 48 → 363 ms in 9
    /// minutes at 642 orders/s). A quarter of the ids makes its cost per event constant; recovery replays at most
    /// 50,000 events.
    /// </summary>
    public static int SnapshotInterval(int snapshotEvery, int ids) => Math.Clamp(ids / 4, snapshotEvery, Math.Max(snapshotEvery, 50_000));

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        foreach (var waiter in _pending.Values.SelectMany(w => w))
            waiter.Tell(new Status.Failure(new Streams.Messaging.RetryableException("Order number allocation failed: " + cause.Message, cause)));
        _pending.Clear();
        base.OnPersistFailure(cause, @event, sequenceNr);
    }
}
