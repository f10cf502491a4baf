using System.Collections.Immutable;
using O2X.Actors.Serialization;

namespace O2X.Actors.Orders;

/// <summary>Ask the Order entity for its current state; answered with <see cref="OrderView"/> or
/// <see cref="Messaging.EntityNotFound"/>.</summary>
internal sealed record GetOrder(string OrderId) : IWithOrderId, IO2XMessage;

/// <summary>One step of an order's life.</summary>
internal sealed record OrderTimelineEntry(OrderStatus Status, DateTimeOffset At, string MessageId, string? Note = null);

/// <summary>What the read API shows of an order.</summary>
internal sealed record OrderView(
    string OrderId,
    OrderStatus Status,
    string AccountId,
    OrderDetails Details,
    string? ProvisioningRequestId,
    ProvisioningOutcome.Completed? Provisioning,
    ProvisioningOutcome.Failed? ProvisioningFailure,
    decimal? BilledTotal,
    string? BilledCurrency,
    string? InvoiceNumber,
    ImmutableArray<OrderTimelineEntry> Timeline) : IO2XMessage;
