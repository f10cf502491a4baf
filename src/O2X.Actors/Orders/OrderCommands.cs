using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Orders;

/// <summary>Routes a message to the Order entity it concerns (the shard extractor reads this).</summary>
internal interface IWithOrderId
{
    string OrderId { get; }
}

/// <summary>A command to the Order entity.</summary>
internal interface IOrderCommand : IWithOrderId, IO2XMessage
{
    /// <summary>The inbound message that caused the command: the idempotency key.</summary>
    string MessageId { get; }
}

/// <summary>Record a new order and request its provisioning (seed §4.1 steps 5 and 7).</summary>
internal sealed record PlaceOrder(string OrderId, IntakeRecord Intake, OrderDetails Details) : IOrderCommand
{
    public string MessageId => Intake.MessageId;
}

/// <summary>An OMS <c>CANCEL</c> order: cancel an order that has not completed yet.</summary>
internal sealed record CancelOrder(string OrderId, IntakeRecord Intake) : IOrderCommand
{
    public string MessageId => Intake.MessageId;
}

/// <summary>A COMPLETED provisioning callback (seed §6.2, first example).</summary>
internal sealed record CompleteProvisioning(string OrderId, string MessageId, ProvisioningOutcome.Completed Result, DateTimeOffset At) : IOrderCommand;

/// <summary>A FAILED provisioning callback (seed §6.2, second example).</summary>
internal sealed record FailProvisioning(string OrderId, string MessageId, ProvisioningOutcome.Failed Result, DateTimeOffset At) : IOrderCommand;

/// <summary>The account has been charged for the completed order (seed §4.1 step 11).</summary>
internal sealed record MarkOrderBilled(string OrderId, string MessageId, decimal Total, string Currency, DateTimeOffset At) : IOrderCommand;

/// <summary>The order's invoice has been issued (seed §4.1 step 12).</summary>
internal sealed record MarkOrderInvoiced(string OrderId, string MessageId, string InvoiceNumber, DateTimeOffset At) : IOrderCommand;

/// <summary>
/// The provisioning watchdog found request <paramref name="RequestId"/> unanswered for longer than <paramref name="Timeout"/>:
/// PROVISIONING → STUCK, only while that request is still the one outstanding.
/// </summary>
internal sealed record FlagProvisioningStuck(string OrderId, string MessageId, string RequestId, TimeSpan Timeout, DateTimeOffset At) : IOrderCommand;

/// <summary>An operator asks the network again for a STUCK order: a new provisioning request (a new request id) → PROVISIONING.</summary>
internal sealed record RetryProvisioning(string OrderId, string MessageId, string Operator, DateTimeOffset At) : IOrderCommand;

/// <summary>An operator gives up on a STUCK order's provisioning: FAILED with <c>PROVISIONING_TIMEOUT</c> and the reason.</summary>
internal sealed record AbandonProvisioning(string OrderId, string MessageId, string Operator, string Reason, DateTimeOffset At) : IOrderCommand;
