using O2X.Actors.Serialization;

namespace O2X.Actors.Orders;

/// <summary>Routes a message to the Order entity it concerns (the shard extractor reads this).</summary>
public interface IWithOrderId
{
    string OrderId { get; }
}

/// <summary>A command to the Order entity.</summary>
public interface IOrderCommand : IWithOrderId, IO2XMessage
{
    /// <summary>The inbound message that caused the command: the idempotency key.</summary>
    string MessageId { get; }
}

/// <summary>Record a new order (seed §4.1 step 5).</summary>
public sealed record PlaceOrder(string OrderId, string MessageId, OrderDetails Details, DateTimeOffset At) : IOrderCommand;
