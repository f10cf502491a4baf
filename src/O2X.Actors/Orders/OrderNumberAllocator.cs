using Akka.Actor;
using Akka.Persistence;
using O2X.Actors.Persistence;

namespace O2X.Actors.Orders;

/// <summary>
/// Hands out sequential order ids per day (<c>ORD-20240211-001</c>, <c>-002</c>, …), one allocator per day in the cluster;
/// a resubmitted business order (same correlation id) gets its original id back.
/// </summary>
/// <remarks>
/// What was given to whom lives in a table (<see cref="OrderNumberStore"/>), not here: the allocator holds the day's last
/// number (for operators) and the write that still takes keys — nothing that grows with the day. Each write takes the
/// numbers after the day's highest in the table inside its own transaction, so numbers stay strictly sequential without
/// gaps. On a node that runs the journal writer, writes join its group commits, which run them in the order they were
/// handed in: a request goes into the next group commit, whatever is in flight (one commit to wait for, not two). Without
/// the journal writer one write is in flight at a time, and requests that arrive meanwhile go together in the next.
/// Days allocated by earlier versions (which kept every correlation id in this entity's events and snapshots) are copied
/// into the table once, when their allocator first starts.
/// </remarks>
internal sealed class OrderNumberAllocator : ReceivePersistentActor
{
    private readonly string _day;
    private readonly OrderNumberStore _store;
    private readonly Queue<(string Key, IActorRef Sender)> _waiting = new();
    private OrderNumberingState? _legacy;
    private OrderNumberStore.Assignment? _open;
    private List<IActorRef> _openSenders = [];
    private int _last;
    private int _inFlight;
    private bool _ready;

    public OrderNumberAllocator(string day, OrderNumberStore store)
    {
        _day = day;
        _store = store;
        PersistenceId = "order-numbers-" + day;

        // Only ever read: the journal of an allocator from before the table.
        Recover<SnapshotOffer>(o => _legacy = (OrderNumberingState)o.Snapshot);
        Recover<OrderNumberAllocated>(e => _legacy = (_legacy ?? OrderNumberingState.Empty(day)).Apply(e));
        Recover<RecoveryCompleted>(_ => StartAsync(_legacy).PipeTo(Self, success: last => new Started(last), failure: cause => new StartFailed(cause)));
        Command<StartFailed>(failed =>
        {
            // The database is away: callers retry; sharding starts this allocator again after its back-off.
            foreach (var (_, sender) in _waiting)
                sender.Tell(new Status.Failure(new Messaging.RetryableException("Order numbering unavailable: " + failed.Cause.Message, failed.Cause)));
            _waiting.Clear();
            throw new InvalidOperationException($"The order numbers of {_day} could not be read.", failed.Cause);
        });
        Command<Started>(started =>
        {
            _legacy = null;
            _last = started.Last;
            _ready = true;
            Flush();
        });
        Command<AllocateOrderNumber>(request =>
        {
            _waiting.Enqueue((request.Key, Sender));
            Flush();
        });
        Command<Written>(written =>
        {
            Done(written.Assignment);
            for (var i = 0; i < written.Senders.Count; i++)
            {
                var (number, isNew) = written.Results[i];
                if (isNew) _last = Math.Max(_last, number);
                written.Senders[i].Tell(new OrderNumberAssigned(OrderNumberingState.FormatOrderId(_day, number), isNew));
            }

            Flush();
        });
        Command<WriteFailed>(failed =>
        {
            Done(failed.Assignment);
            // A database that is away is a dependency failure; anything else keeps its type for the binding to classify.
            var cause = Messaging.Bindings.BindingCircuitBreaker.IsDependencyFailure(failed.Cause)
                ? new Messaging.RetryableException("Order number allocation failed: " + failed.Cause.Message, failed.Cause)
                : failed.Cause;
            foreach (var sender in failed.Senders) sender.Tell(new Status.Failure(cause));
            Flush();
        });
        Command<GetOrderNumbering>(_ => Sender.Tell(new OrderNumbering(_day, _last, _waiting.Count, _inFlight > 0)));
    }

    public override string PersistenceId { get; }

    /// <summary>
    /// Adds what is waiting to the write that still takes keys, or starts a new write: at once when the writes join the
    /// journal's group commits (they run in order), otherwise only when none is in flight.
    /// </summary>
    private void Flush()
    {
        if (!_ready) return;
        while (_waiting.TryPeek(out var next))
        {
            if (_open is null || !_open.TryAdd(next.Key))
            {
                if (_inFlight > 0 && !_store.JoinsJournal) return;
                Start(next.Key);
            }

            _openSenders.Add(next.Sender);
            _waiting.Dequeue();
        }
    }

    /// <summary>Starts a write with <paramref name="firstKey"/> in it (added before the write can start, so none runs empty).</summary>
    private void Start(string firstKey)
    {
        var assignment = new OrderNumberStore.Assignment(_day);
        assignment.TryAdd(firstKey);
        var senders = new List<IActorRef>();
        _open = assignment;
        _openSenders = senders;
        _inFlight++;
        _store.AssignAsync(assignment).PipeTo(Self,
            success: results => new Written(assignment, senders, results),
            failure: cause => new WriteFailed(assignment, senders, cause));
    }

    private void Done(OrderNumberStore.Assignment assignment)
    {
        _inFlight--;
        if (ReferenceEquals(_open, assignment)) _open = null;
    }

    /// <summary>The day's last number; first copies an old allocator's numbers into the table.</summary>
    private async Task<int> StartAsync(OrderNumberingState? legacy)
    {
        if (legacy is { ByKey.Count: > 0 }) await _store.ImportAsync(_day, legacy.ByKey);
        return await _store.LastNumberAsync(_day);
    }

    private sealed record Started(int Last) : INoSerializationVerificationNeeded;

    private sealed record StartFailed(Exception Cause) : INoSerializationVerificationNeeded;

    private sealed record Written(OrderNumberStore.Assignment Assignment, List<IActorRef> Senders, IReadOnlyList<(int Number, bool IsNew)> Results)
        : INoSerializationVerificationNeeded;

    private sealed record WriteFailed(OrderNumberStore.Assignment Assignment, List<IActorRef> Senders, Exception Cause) : INoSerializationVerificationNeeded;
}
