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
/// number and the requests waiting for the write in flight — nothing that grows with the day. Requests that arrive while a
/// write is in flight are written together in the next one (group commit, one transaction); numbers are decided by this
/// single writer, so they stay strictly sequential without gaps. Days allocated by earlier versions (which kept every
/// correlation id in this entity's events and snapshots) are copied into the table once, when their allocator first starts.
/// </remarks>
internal sealed class OrderNumberAllocator : ReceivePersistentActor
{
    private readonly string _day;
    private readonly OrderNumberStore _store;
    private readonly Dictionary<string, List<IActorRef>> _waiting = new(StringComparer.Ordinal);
    private OrderNumberingState? _legacy;
    private int _last;
    private bool _ready;
    private bool _writing;

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
            foreach (var sender in _waiting.Values.SelectMany(w => w))
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
            if (!_waiting.TryGetValue(request.Key, out var senders)) _waiting[request.Key] = senders = [];
            senders.Add(Sender);
            Flush();
        });
        Command<Written>(written =>
        {
            _writing = false;
            _last = written.Last;
            foreach (var (key, (number, isNew), senders) in written.Results)
            {
                var orderId = OrderNumberingState.FormatOrderId(_day, number);
                for (var i = 0; i < senders.Count; i++) senders[i].Tell(new OrderNumberAssigned(orderId, IsNew: isNew && i == 0));
            }

            Flush();
        });
        Command<WriteFailed>(failed =>
        {
            _writing = false;
            // A database that is away is a dependency failure; anything else keeps its type for the binding to classify.
            var cause = Messaging.Bindings.BindingCircuitBreaker.IsDependencyFailure(failed.Cause)
                ? new Messaging.RetryableException("Order number allocation failed: " + failed.Cause.Message, failed.Cause)
                : failed.Cause;
            foreach (var sender in failed.Senders) sender.Tell(new Status.Failure(cause));
            // What the table holds may now be ahead of _last (a commit whose answer was lost, an earlier incarnation's write
            // that landed late): read the day's last number again before giving out the next one, or every new key would
            // run into the unique number until the allocator restarts.
            _ready = false;
            _store.LastNumberAsync(_day).PipeTo(Self, success: last => new Started(last), failure: cause => new StartFailed(cause));
        });
        Command<GetOrderNumbering>(_ => Sender.Tell(new OrderNumbering(_day, _last, _waiting.Count, _writing)));
    }

    public override string PersistenceId { get; }

    /// <summary>Sends what is waiting to the table, unless a write is in flight (then it goes with the next one).</summary>
    private void Flush()
    {
        if (!_ready || _writing || _waiting.Count == 0) return;
        var batch = _waiting.ToList();
        _waiting.Clear();
        _writing = true;
        var last = _last;
        _store.AssignAsync(_day, last, [.. batch.Select(b => b.Key)]).PipeTo(Self,
            success: results => new Written(
                results.Aggregate(last, (l, r) => r.IsNew ? Math.Max(l, r.Number) : l),
                [.. batch.Select((b, i) => (b.Key, results[i], b.Value))]),
            failure: cause => new WriteFailed(cause, [.. batch.SelectMany(b => b.Value)]));
    }

    /// <summary>The day's last number; first copies an old allocator's numbers into the table.</summary>
    private async Task<int> StartAsync(OrderNumberingState? legacy)
    {
        if (legacy is { ByKey.Count: > 0 }) await _store.ImportAsync(_day, legacy.ByKey);
        return await _store.LastNumberAsync(_day);
    }

    private sealed record Started(int Last) : INoSerializationVerificationNeeded;

    private sealed record StartFailed(Exception Cause) : INoSerializationVerificationNeeded;

    private sealed record Written(int Last, IReadOnlyList<(string Key, (int Number, bool IsNew) Result, List<IActorRef> Senders)> Results)
        : INoSerializationVerificationNeeded;

    private sealed record WriteFailed(Exception Cause, IReadOnlyList<IActorRef> Senders) : INoSerializationVerificationNeeded;
}
