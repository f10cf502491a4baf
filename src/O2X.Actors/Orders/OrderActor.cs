using Akka.Actor;
using O2X.Actors.Messaging;
using O2X.Actors.Sharding;

namespace O2X.Actors.Orders;

/// <summary>The sharded, persistent Order entity (<c>order-{id}</c>).</summary>
internal sealed class OrderActor : EventSourcedEntity<OrderState, IOrderCommand, IOrderEvent>
{
    public OrderActor(string orderId, int snapshotEvery)
        : base("order-" + orderId, OrderState.Empty(orderId), snapshotEvery)
    {
        Command<GetOrder>(_ => Sender.Tell(State.Exists ? State.ToView() : new EntityNotFound(orderId), Self));
    }

    protected override Decision<IOrderEvent> Decide(OrderState state, IOrderCommand command) => OrderState.Decide(state, command);

    protected override OrderState Apply(OrderState state, IOrderEvent @event) => state.Apply(@event);
}
