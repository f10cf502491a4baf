using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Orders;

/// <summary>A persisted fact about an order. Never reshape one in place: add a new version.</summary>
internal interface IOrderEvent : IWithOrderId, IO2XMessage
{
    /// <summary>The inbound message that caused the event (for the processed-message window).</summary>
    string MessageId { get; }

    DateTimeOffset At { get; }
}

/// <summary>The order was received and recorded: RECEIVED. Carries the OMS message verbatim (OMS_ARCHIVE).</summary>
internal sealed record OrderReceived(string OrderId, IntakeRecord Intake, OrderDetails Details, DateTimeOffset At) : IOrderEvent, IHasIntake
{
    public string MessageId => Intake.MessageId;
}

/// <summary>Provisioning was requested from the network (PROVISIONING_REQUEST): PROVISIONING.</summary>
internal sealed record ProvisioningRequested(
    string OrderId,
    string MessageId,
    string RequestId,
    string AccountId,
    OrderType OrderType,
    ImmutableArray<ServiceLine> Services,
    string? CorrelationId,
    DateTimeOffset At) : IOrderEvent;

/// <summary>The same business order (correlation id) arrived again under a new message id; the original stands.</summary>
internal sealed record DuplicateOrderSubmitted(string OrderId, IntakeRecord Intake, OrderStatus StatusAtResubmission, DateTimeOffset At) : IOrderEvent, IHasIntake
{
    public string MessageId => Intake.MessageId;
}

/// <summary>An OMS CANCEL order cancelled this order: CANCELLED.</summary>
internal sealed record OrderCancelled(string OrderId, IntakeRecord Intake, OrderStatus CancelledFrom, DateTimeOffset At) : IOrderEvent, IHasIntake
{
    public string MessageId => Intake.MessageId;
}

/// <summary>The network reports the service active: COMPLETED.</summary>
internal sealed record ProvisioningCompleted(string OrderId, string MessageId, ProvisioningOutcome.Completed Result, DateTimeOffset At) : IOrderEvent;

/// <summary>The network reports failure: FAILED (the vendor error and its retry advice are kept).</summary>
internal sealed record ProvisioningFailed(string OrderId, string MessageId, ProvisioningOutcome.Failed Result, DateTimeOffset At) : IOrderEvent;

/// <summary>The account was charged for the order: BILLED.</summary>
internal sealed record OrderBilled(string OrderId, string MessageId, decimal Total, string Currency, DateTimeOffset At) : IOrderEvent;

/// <summary>The order's invoice was issued: INVOICED.</summary>
internal sealed record OrderInvoiced(string OrderId, string MessageId, string InvoiceNumber, DateTimeOffset At) : IOrderEvent;

/// <summary>
/// Provisioning request <paramref name="RequestId"/> was not answered within <paramref name="Timeout"/>: STUCK, waiting for an
/// operator (retry or fail) or a late callback.
/// </summary>
internal sealed record ProvisioningStuck(string OrderId, string MessageId, string RequestId, TimeSpan Timeout, DateTimeOffset At) : IOrderEvent;
