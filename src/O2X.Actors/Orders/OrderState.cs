using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Orders;

/// <summary>
/// The state of one order, with the pure <see cref="Decide"/> and <see cref="Apply"/> that the
/// <see cref="OrderActor"/> drives. Also the snapshot format.
/// </summary>
public sealed record OrderState(
    string OrderId,
    OrderStatus Status,
    OrderDetails? Details,
    ImmutableArray<OrderTimelineEntry> Timeline,
    MessageIdWindow Processed) : IO2XMessage
{
    public static OrderState Empty(string orderId) => new(orderId, OrderStatus.Received, null, [], MessageIdWindow.Empty);

    public bool Exists => Details is not null;

    public OrderView ToView() => new(OrderId, Status, Details!, Timeline);

    public static Decision<IOrderEvent> Decide(OrderState state, IOrderCommand command)
    {
        if (state.Processed.Contains(command.MessageId))
            return Decision<IOrderEvent>.Answer(new CommandDone(state.OrderId, WasDuplicate: true));

        return command switch
        {
            PlaceOrder place => DecidePlace(state, place),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown order command"),
        };
    }

    private static Decision<IOrderEvent> DecidePlace(OrderState state, PlaceOrder place)
    {
        if (!state.Exists)
            return Decision<IOrderEvent>.Persist(
                new CommandDone(state.OrderId, WasDuplicate: false),
                new OrderReceived(place.OrderId, place.MessageId, place.Details, place.At));

        // The same business order resubmitted (same correlation id): the original result stands.
        var correlation = place.Details.CorrelationId;
        if (correlation is not null && correlation == state.Details!.CorrelationId)
            return Decision<IOrderEvent>.Answer(new CommandDone(state.OrderId, WasDuplicate: true));

        return Decision<IOrderEvent>.Refuse(state.OrderId, ErrorCodes.DuplicateOrder,
            $"Order {state.OrderId} already exists (correlation id {state.Details!.CorrelationId ?? "none"}).");
    }

    public OrderState Apply(IOrderEvent @event) => (@event switch
    {
        OrderReceived e => this with
        {
            Status = OrderStatus.Received,
            Details = e.Details,
            Timeline = Timeline.Add(new OrderTimelineEntry(OrderStatus.Received, e.At, e.MessageId)),
        },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "unknown order event"),
    }) with { Processed = Processed.Add(@event.MessageId) };
}
