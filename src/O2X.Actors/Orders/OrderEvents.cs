using O2X.Actors.Serialization;

namespace O2X.Actors.Orders;

/// <summary>A persisted fact about an order. Never reshape one in place: add a new version.</summary>
public interface IOrderEvent : IWithOrderId, IO2XMessage
{
    string MessageId { get; }
    DateTimeOffset At { get; }
}

/// <summary>The order was received and recorded (status RECEIVED).</summary>
public sealed record OrderReceived(string OrderId, string MessageId, OrderDetails Details, DateTimeOffset At) : IOrderEvent;
