using Akka.Actor;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;
using O2X.Actors.Sharding;

namespace O2X.Actors.Orders;

/// <summary>
/// The handler of PROVISIONING_RESPONSE and MCM_BILLING_OMS_RESPONSE (seed §4.1 steps 10-12, crm_gateway's
/// OrderUpdater): COMPLETED → order COMPLETED → subscriptions activated and charges posted (BILLED) →
/// invoice issued (INVOICED); FAILED → order FAILED with the vendor error. Each step is idempotent, so a
/// callback redelivered after a crash finishes the remaining steps without charging twice. A callback for
/// an unknown order or one not awaiting provisioning is refused (→ OMS_ERROR).
/// </summary>
public sealed class OrderUpdater : IMessageHandler
{
    private readonly EntityRegions _regions;
    private readonly TimeSpan _timeout;

    public OrderUpdater(EntityRegions regions, TimeSpan askTimeout)
    {
        _regions = regions;
        _timeout = askTimeout;
    }

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        var response = ProvisioningResponseParser.Parse(envelope.Body);
        var key = "order:" + response.OrderId;
        return response.Outcome switch
        {
            ProvisioningOutcome.Completed completed => new HandlingPlan(key, ct => CompleteAsync(envelope, response.OrderId, completed, ct)),
            ProvisioningOutcome.Failed failed => new HandlingPlan(key, ct => FailAsync(envelope, response.OrderId, failed, ct)),
            _ => throw new InvalidOperationException("unreachable provisioning outcome"),
        };
    }

    private async Task<HandlingOutcome> CompleteAsync(MessageEnvelope envelope, string orderId, ProvisioningOutcome.Completed result, CancellationToken ct)
    {
        var id = envelope.MessageId;
        var recorded = await CommandAsync(_regions.Orders, new CompleteProvisioning(orderId, id, result, envelope.ReceivedAt), ct);
        var order = await OrderAsync(orderId, ct);
        // Cancelled or taken back after it completed (a redelivered callback, or a cancel that overtook this one): the account has
        // compensated, or dropped the changes; nothing more to apply or charge.
        if (order.Status is OrderStatus.Cancelled or OrderStatus.Failed) return Outcome(recorded, orderId, order.AccountId, order.Status, null);

        var changes = SubscriptionRules.ChangesOf(order.Details);
        await CommandAsync(_regions.Accounts, new ApplyCompletedOrder(order.AccountId, id, orderId, changes, result.CompletedAt), ct);
        var charges = await EntityAsk.AskAsync<OrderCharges>(_regions.Accounts, new GetOrderCharges(order.AccountId, orderId), _timeout, ct);
        if (charges.Charges.IsEmpty) return Outcome(recorded, orderId, order.AccountId, OrderStatus.Completed, null);

        // Derived message ids: each step has its own idempotency key, distinct from the callback's.
        var total = Billing.Round(Money.SaturatingSum(charges.Charges.Select(c => c.Amount)));
        await CommandAsync(_regions.Orders, new MarkOrderBilled(orderId, id + ":billed", total, charges.Charges[0].Currency, envelope.ReceivedAt), ct);
        await CommandAsync(_regions.Accounts, new IssueOrderInvoice(order.AccountId, id + ":invoice", orderId, result.CompletedAt), ct);
        var invoiced = await EntityAsk.AskAsync<OrderCharges>(_regions.Accounts, new GetOrderCharges(order.AccountId, orderId), _timeout, ct);
        var invoiceNumber = invoiced.InvoiceNumber ?? throw new RetryableException($"The invoice of order {orderId} is not visible yet.", dependencyFailure: false);
        await CommandAsync(_regions.Orders, new MarkOrderInvoiced(orderId, id + ":invoiced", invoiceNumber, envelope.ReceivedAt), ct);
        return Outcome(recorded, orderId, order.AccountId, OrderStatus.Invoiced, invoiceNumber);
    }

    private async Task<HandlingOutcome> FailAsync(MessageEnvelope envelope, string orderId, ProvisioningOutcome.Failed result, CancellationToken ct)
    {
        var recorded = await CommandAsync(_regions.Orders, new FailProvisioning(orderId, envelope.MessageId, result, envelope.ReceivedAt), ct);
        var order = await OrderAsync(orderId, ct);
        await CommandAsync(_regions.Accounts,
            new AbandonOrderChanges(order.AccountId, envelope.MessageId, orderId, "FAILED: " + result.Error.Code, envelope.ReceivedAt), ct);
        return Outcome(recorded, orderId, order.AccountId, OrderStatus.Failed, null);
    }

    private async Task<OrderView> OrderAsync(string orderId, CancellationToken ct) =>
        await EntityAsk.AskAsync<IO2XMessage>(_regions.Orders, new GetOrder(orderId), _timeout, ct) as OrderView
        ?? throw new NonRetryableException(ErrorCodes.OrderNotFound, $"Order {orderId} does not exist.");

    private Task<CommandDone> CommandAsync(IActorRef region, object command, CancellationToken ct) => EntityAsk.CommandAsync(region, command, _timeout, ct);

    private static HandlingOutcome Outcome(CommandDone recorded, string orderId, string accountId, OrderStatus status, string? invoiceNumber)
    {
        var facts = new List<(string, string)> { ("orderId", orderId), ("accountId", accountId), ("status", status.ToString().ToUpperInvariant()) };
        if (invoiceNumber is not null) facts.Add(("invoiceNumber", invoiceNumber));
        return recorded.WasDuplicate ? HandlingOutcome.DuplicateWith([.. facts]) : HandlingOutcome.ProcessedWith([.. facts]);
    }
}
