using Akka.Actor;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;

namespace O2X.Actors.Orders;

/// <summary>
/// What an operator does with a STUCK order: ask the network again (a new provisioning request, new request id) or give up
/// (FAILED with <c>PROVISIONING_TIMEOUT</c>, and the account's pending changes for the order abandoned, as a FAILED callback
/// would). Both are idempotent: repeating one after a crash or a double click records nothing twice.
/// </summary>
internal sealed class ProvisioningOperations(IActorRef orders, IActorRef accounts, TimeSpan askTimeout)
{
    /// <summary>Throws <see cref="NonRetryableException"/> with the entity's code when the order is not STUCK.</summary>
    public async Task<OrderView> RetryAsync(string orderId, string operatorName, CancellationToken ct)
    {
        await EntityAsk.CommandAsync(orders, new RetryProvisioning(orderId, "op-retry:" + Guid.NewGuid().ToString("N"), operatorName, DateTimeOffset.UtcNow),
            askTimeout, ct);
        return await OrderAsync(orderId, ct);
    }

    public async Task<OrderView> FailAsync(string orderId, string operatorName, string reason, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        await EntityAsk.CommandAsync(orders, new AbandonProvisioning(orderId, "op-fail:" + Guid.NewGuid().ToString("N"), operatorName, reason, now), askTimeout, ct);
        var order = await OrderAsync(orderId, ct);
        // One id per order: the account abandons the order's changes once, however often this runs.
        await EntityAsk.CommandAsync(accounts, new AbandonOrderChanges(order.AccountId, "op-fail:" + orderId, orderId, "FAILED: " + ErrorCodes.ProvisioningTimeout, now),
            askTimeout, ct);
        return order;
    }

    private async Task<OrderView> OrderAsync(string orderId, CancellationToken ct) =>
        await EntityAsk.AskAsync<Serialization.IO2XMessage>(orders, new GetOrder(orderId), askTimeout, ct) as OrderView
        ?? throw new NonRetryableException(ErrorCodes.OrderNotFound, $"Order {orderId} does not exist.");
}
