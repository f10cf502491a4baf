using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Orders;

/// <summary>
/// The state of one order and its lifecycle as an explicit state machine (RECEIVED → PROVISIONING →
/// COMPLETED → BILLED → INVOICED, or FAILED / CANCELLED; STUCK when provisioning does not answer in time), with the pure <see cref="Decide"/> and
/// <see cref="Apply"/> that the <see cref="OrderActor"/> drives. Also the snapshot format.
/// </summary>
internal sealed record OrderState(
    string OrderId,
    OrderStatus Status,
    OrderDetails? Details,
    string? ProvisioningRequestId,
    ProvisioningOutcome.Completed? Provisioning,
    ProvisioningOutcome.Failed? ProvisioningFailure,
    decimal? BilledTotal,
    string? BilledCurrency,
    string? InvoiceNumber,
    ImmutableArray<OrderTimelineEntry> Timeline,
    MessageIdWindow Processed) : IO2XMessage
{
    public static OrderState Empty(string orderId) =>
        new(orderId, OrderStatus.Received, null, null, null, null, null, null, null, [], MessageIdWindow.Empty);

    public bool Exists => Details is not null;

    public OrderView ToView() => new(OrderId, Status, Details!.AccountId, Details, ProvisioningRequestId, Provisioning,
        ProvisioningFailure, BilledTotal, BilledCurrency, InvoiceNumber, Timeline);

    public static Decision<IOrderEvent> Decide(OrderState state, IOrderCommand command)
    {
        if (state.Processed.Contains(command.MessageId))
            return Decision<IOrderEvent>.Answer(new CommandDone(state.OrderId, WasDuplicate: true));
        if (!state.Exists && command is not PlaceOrder)
            return Decision<IOrderEvent>.Refuse(state.OrderId, ErrorCodes.OrderNotFound, $"Order {state.OrderId} does not exist.");

        return command switch
        {
            PlaceOrder place => DecidePlace(state, place),
            // After completion too: the account then compensates (ends the order's subscriptions, credits its charges).
            CancelOrder cancel => state.Status is OrderStatus.Failed or OrderStatus.Cancelled
                ? NotNow(state, "cancelled")
                : Decision<IOrderEvent>.Persist(Done(state), new OrderCancelled(state.OrderId, cancel.Intake, state.Status, cancel.Intake.ReceivedAt)),
            // A callback while STUCK is taken as it would have been in PROVISIONING: the network's answer is the truth.
            CompleteProvisioning complete => state.Status switch
            {
                OrderStatus.Provisioning or OrderStatus.Stuck => Decision<IOrderEvent>.Persist(Done(state),
                    new ProvisioningCompleted(state.OrderId, complete.MessageId, complete.Result, complete.At)),
                OrderStatus.Completed or OrderStatus.Billed or OrderStatus.Invoiced or OrderStatus.Cancelled or OrderStatus.Failed
                    when state.Provisioning?.ProvisioningId == complete.Result.ProvisioningId => Resent(state),
                OrderStatus.Failed when state.FailedByOperator => Decision<IOrderEvent>.Refuse(state.OrderId, ErrorCodes.LateProvisioningCallback,
                    $"Order {state.OrderId} was failed by an operator after its provisioning timed out; the network now reports provisioning " +
                    $"{complete.Result.ProvisioningId} COMPLETED. Reconcile by hand: release the service at the network or place the order again."),
                _ => NotNow(state, "completed by provisioning " + complete.Result.ProvisioningId),
            },
            FailProvisioning fail => state.Status switch
            {
                OrderStatus.Provisioning or OrderStatus.Stuck => Decision<IOrderEvent>.Persist(Done(state),
                    new ProvisioningFailed(state.OrderId, fail.MessageId, fail.Result, fail.At)),
                // The network takes back what it reported COMPLETED (the same provisioning): FAILED, and the account compensates.
                OrderStatus.Completed or OrderStatus.Billed or OrderStatus.Invoiced when state.Provisioning?.ProvisioningId == fail.Result.ProvisioningId =>
                    Decision<IOrderEvent>.Persist(Done(state), new ProvisioningFailed(state.OrderId, fail.MessageId, fail.Result, fail.At)),
                OrderStatus.Failed when state.ProvisioningFailure?.ProvisioningId == fail.Result.ProvisioningId => Resent(state),
                // Failed by an operator, then by the network too: the same end, nothing more to record.
                OrderStatus.Failed when state.FailedByOperator => Resent(state),
                _ => NotNow(state, "failed by provisioning " + fail.Result.ProvisioningId),
            },
            FlagProvisioningStuck flag => state.Status switch
            {
                OrderStatus.Provisioning when state.ProvisioningRequestId == flag.RequestId => Decision<IOrderEvent>.Persist(Done(state),
                    new ProvisioningStuck(state.OrderId, flag.MessageId, flag.RequestId, flag.Timeout, flag.At)),
                OrderStatus.Stuck when state.ProvisioningRequestId == flag.RequestId => Resent(state),
                _ => NotNow(state, "flagged stuck for provisioning request " + flag.RequestId),
            },
            RetryProvisioning retry => state.Status == OrderStatus.Stuck
                ? Decision<IOrderEvent>.Persist(Done(state), new ProvisioningRequested(state.OrderId, retry.MessageId, NextRequestId(state),
                    state.Details!.AccountId, state.Details.OrderType, state.Details.Services, state.Details.CorrelationId, retry.At))
                : NotNow(state, "retried (only a STUCK order's provisioning is retried)"),
            AbandonProvisioning when state.FailedByOperator => Resent(state),
            AbandonProvisioning abandon => state.Status == OrderStatus.Stuck
                ? Decision<IOrderEvent>.Persist(Done(state), new ProvisioningFailed(state.OrderId, abandon.MessageId,
                    new ProvisioningOutcome.Failed(state.ProvisioningRequestId!, OperatorVendor, abandon.At,
                        new VendorError(ErrorCodes.ProvisioningTimeout, $"Failed by {abandon.Operator}: {abandon.Reason}", null), RetryRecommended: false),
                    abandon.At))
                : NotNow(state, "failed by an operator (only a STUCK order is)"),
            MarkOrderBilled billed => state.Status switch
            {
                OrderStatus.Completed => Decision<IOrderEvent>.Persist(Done(state),
                    new OrderBilled(state.OrderId, billed.MessageId, billed.Total, billed.Currency, billed.At)),
                OrderStatus.Billed or OrderStatus.Invoiced => Resent(state),
                _ => NotNow(state, "billed"),
            },
            MarkOrderInvoiced invoiced => state.Status switch
            {
                OrderStatus.Billed => Decision<IOrderEvent>.Persist(Done(state),
                    new OrderInvoiced(state.OrderId, invoiced.MessageId, invoiced.InvoiceNumber, invoiced.At)),
                OrderStatus.Invoiced when state.InvoiceNumber == invoiced.InvoiceNumber => Resent(state),
                _ => NotNow(state, "invoiced"),
            },
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown order command"),
        };
    }

    private static Decision<IOrderEvent> DecidePlace(OrderState state, PlaceOrder place)
    {
        if (!state.Exists)
        {
            var at = place.Intake.ReceivedAt;
            var details = place.Details;
            return Decision<IOrderEvent>.Persist(
                Done(state),
                new OrderReceived(place.OrderId, place.Intake, details, at),
                new ProvisioningRequested(place.OrderId, place.MessageId, "PRQ-" + place.OrderId, details.AccountId, details.OrderType,
                    details.Services, details.CorrelationId, at));
        }

        // The same business order resubmitted (same correlation id): recorded, and the original result stands.
        var correlation = place.Details.CorrelationId;
        if (correlation is not null && correlation == state.Details!.CorrelationId)
            return Decision<IOrderEvent>.Persist(new CommandDone(state.OrderId, WasDuplicate: true),
                new DuplicateOrderSubmitted(state.OrderId, place.Intake, state.Status, place.Intake.ReceivedAt));

        return Decision<IOrderEvent>.Refuse(state.OrderId, ErrorCodes.DuplicateOrder,
            $"Order {state.OrderId} already exists (correlation id {state.Details!.CorrelationId ?? "none"}).");
    }

    /// <summary>The vendor name recorded when an operator, not the network, failed a STUCK provisioning.</summary>
    public const string OperatorVendor = "o2x-operator";

    /// <summary>Failed by an operator after a provisioning timeout (not by the network).</summary>
    public bool FailedByOperator => Status == OrderStatus.Failed && ProvisioningFailure is { Vendor: OperatorVendor, Error.Code: ErrorCodes.ProvisioningTimeout };

    /// <summary>The first request is <c>PRQ-{order}</c>; the n-th retry <c>PRQ-{order}-R{n}</c> (a new id, so the network sees a new request).</summary>
    private static string NextRequestId(OrderState state) =>
        $"PRQ-{state.OrderId}-R{state.Timeline.Count(t => t.Status == OrderStatus.Provisioning)}";

    private static CommandDone Done(OrderState state) => new(state.OrderId, WasDuplicate: false);

    /// <summary>The same business fact reported again (e.g. a callback resent under a new message id).</summary>
    private static Decision<IOrderEvent> Resent(OrderState state) =>
        Decision<IOrderEvent>.Answer(new CommandDone(state.OrderId, WasDuplicate: true));

    private static Decision<IOrderEvent> NotNow(OrderState state, string what) =>
        Decision<IOrderEvent>.Refuse(state.OrderId, ErrorCodes.InvalidStateTransition,
            $"Order {state.OrderId} is {state.Status.ToString().ToUpperInvariant()} and cannot be {what}.");

    public OrderState Apply(IOrderEvent @event)
    {
        var next = @event switch
        {
            OrderReceived e => this with { Details = e.Details, Status = OrderStatus.Received },
            ProvisioningRequested e => this with { Status = OrderStatus.Provisioning, ProvisioningRequestId = e.RequestId },
            DuplicateOrderSubmitted => this,
            OrderCancelled => this with { Status = OrderStatus.Cancelled },
            ProvisioningCompleted e => this with { Status = OrderStatus.Completed, Provisioning = e.Result },
            ProvisioningFailed e => this with { Status = OrderStatus.Failed, ProvisioningFailure = e.Result },
            OrderBilled e => this with { Status = OrderStatus.Billed, BilledTotal = e.Total, BilledCurrency = e.Currency },
            OrderInvoiced e => this with { Status = OrderStatus.Invoiced, InvoiceNumber = e.InvoiceNumber },
            ProvisioningStuck => this with { Status = OrderStatus.Stuck },
            _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "unknown order event"),
        };
        var timeline = next.Status != Status || @event is OrderReceived
            ? Timeline.Add(new OrderTimelineEntry(next.Status, @event.At, @event.MessageId, Note(@event)))
            : Timeline;
        return next with { Timeline = timeline, Processed = Processed.Add(@event.MessageId) };
    }

    private static string? Note(IOrderEvent @event) => @event switch
    {
        ProvisioningRequested e => "provisioning request " + e.RequestId,
        ProvisioningCompleted e => $"provisioning {e.Result.ProvisioningId}" + (e.Result.Vendor is null ? "" : " by " + e.Result.Vendor),
        ProvisioningFailed e => $"{e.Result.Error.Code}: {e.Result.Error.Message}",
        OrderBilled e => $"charged {e.Total} {e.Currency}",
        OrderInvoiced e => "invoice " + e.InvoiceNumber,
        ProvisioningStuck e => $"no answer to {e.RequestId} within {e.Timeout}",
        _ => null,
    };
}
