using Akka.Actor;
using O2X.Actors.Messaging;
using O2X.Actors.Sharding;

namespace O2X.Actors.Orders;

/// <summary>The sharded, persistent Order entity (<c>order-{id}</c>).</summary>
internal sealed class OrderActor : EventSourcedEntity<OrderState, IOrderCommand, IOrderEvent>
{
    private readonly string _orderId;

    public OrderActor(string orderId, int snapshotEvery)
        : base("order-" + orderId, OrderState.Empty(orderId), snapshotEvery) =>
        _orderId = orderId;

    protected override bool Query(object message)
    {
        if (message is not GetOrder) return false;
        Sender.Tell(State.Exists ? State.ToView() : new EntityNotFound(_orderId), Self);
        return true;
    }

    protected override Decision<IOrderEvent> Decide(OrderState state, IOrderCommand command) => OrderState.Decide(state, command);

    protected override OrderState Apply(OrderState state, IOrderEvent @event) => state.Apply(@event);
}
