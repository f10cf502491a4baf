using Akka.Actor;
using O2X.Actors.Messaging;
using O2X.Actors.Sharding;

namespace O2X.Actors.Orders;

/// <summary>The sharded, persistent Order entity (<c>order-{id}</c>).</summary>
internal sealed class OrderActor : EventSourcedEntity<OrderState, IOrderCommand, IOrderEvent>
{
    private readonly string _orderId;

    public OrderActor(string orderId, int snapshotEvery)
        : base(PersistenceIdOf(orderId), OrderState.Empty(orderId), snapshotEvery) =>
        _orderId = orderId;

    /// <summary>The journal's persistence id of an order (also what its first events are written under without the entity).</summary>
    public static string PersistenceIdOf(string orderId) => "order-" + orderId;

    protected override bool Query(object message)
    {
        if (message is not GetOrder) return false;
        Sender.Tell(State.Exists ? State.ToView() : new EntityNotFound(_orderId), Self);
        if (!State.Exists) PassivateNow();
        return true;
    }

    /// <summary>
    /// An incarnation that found no order does not stay: a new order's first events are written without its entity
    /// (<see cref="Persistence.Journal.FirstWrites"/>), and only an incarnation started after them sees them. One kept alive by
    /// a read of a number not yet given out would answer from an empty state for its whole idle window; now only what is
    /// already in its mailbox when it asks to stop can be answered so. (A write of its own fails on the journal's unique
    /// sequence number and restarts it.)
    /// </summary>
    protected override void AnsweredWithoutWriting()
    {
        if (!State.Exists) PassivateNow();
    }

    protected override Decision<IOrderEvent> Decide(OrderState state, IOrderCommand command) => OrderState.Decide(state, command);

    protected override OrderState Apply(OrderState state, IOrderEvent @event) => state.Apply(@event);
}
