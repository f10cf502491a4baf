using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;

namespace O2X.Actors.Accounts;

/// <summary>
/// What an order may do to an account's subscriptions, and what it does once completed. Pure.
/// </summary>
internal static class SubscriptionRules
{
    /// <summary>The changes an order asks for, one per service line.</summary>
    public static ImmutableArray<SubscriptionChange> ChangesOf(OrderDetails details) =>
        [.. details.Services.Select(s => new SubscriptionChange(details.OrderType, s.Action, s.ProductCode, s.Quantity, s.Pricing))];

    /// <summary>The first change that cannot apply to these subscriptions, with the reason; null when all can.</summary>
    public static (string ErrorCode, string Message)? Check(ImmutableArray<Subscription> subscriptions, ImmutableArray<SubscriptionChange> changes)
    {
        foreach (var change in changes)
        {
            var product = change.ProductCode;
            bool Has(params SubscriptionStatus[] statuses) => subscriptions.Any(s => s.ProductCode == product && statuses.Contains(s.Status));

            var problem = (change.OrderType, change.Action) switch
            {
                (OrderType.Suspend, _) when !Has(SubscriptionStatus.Active) => $"{product} cannot be suspended: the account has no active subscription to it",
                (OrderType.Resume, _) when !Has(SubscriptionStatus.Suspended) => $"{product} cannot be resumed: the account has no suspended subscription to it",
                (OrderType.Suspend or OrderType.Resume, _) => null,
                (_, ServiceAction.Remove or ServiceAction.Change) when !Has(SubscriptionStatus.Active, SubscriptionStatus.Suspended) =>
                    $"{product} cannot be {(change.Action == ServiceAction.Remove ? "removed" : "changed")}: the account has no subscription to it",
                _ => null,
            };
            if (problem is not null) return (ErrorCodes.InvalidProduct, problem);
        }

        return null;
    }

    /// <summary>The subscriptions an order's changes create or alter, as they are after the order completes.</summary>
    public static ImmutableArray<Subscription> Apply(ImmutableArray<Subscription> current, string orderId, ImmutableArray<SubscriptionChange> changes, DateTimeOffset at)
    {
        var touched = ImmutableArray.CreateBuilder<Subscription>();
        Subscription Latest(Subscription s) => touched.LastOrDefault(t => t.SubscriptionId == s.SubscriptionId) ?? s;

        for (var i = 0; i < changes.Length; i++)
        {
            var change = changes[i];
            var existing = current.Where(s => s.ProductCode == change.ProductCode).Select(Latest).ToArray();
            switch (change.OrderType, change.Action)
            {
                case (OrderType.Suspend, _):
                    touched.AddRange(existing.Where(s => s.Status == SubscriptionStatus.Active).Select(s => s with { Status = SubscriptionStatus.Suspended, Since = at }));
                    break;
                case (OrderType.Resume, _):
                    touched.AddRange(existing.Where(s => s.Status == SubscriptionStatus.Suspended).Select(s => s with { Status = SubscriptionStatus.Active, Since = at }));
                    break;
                case (_, ServiceAction.Add):
                    touched.Add(new Subscription($"{orderId}-S{i + 1}", orderId, change.ProductCode, change.Quantity,
                        change.Pricing?.MonthlyRecurringCharge ?? 0m, change.Pricing?.Currency, SubscriptionStatus.Active, at));
                    break;
                case (_, ServiceAction.Remove):
                    touched.AddRange(existing.Where(s => s.Status != SubscriptionStatus.Removed).Select(s => s with { Status = SubscriptionStatus.Removed, Since = at }));
                    break;
                case (_, ServiceAction.Change):
                    touched.AddRange(existing.Where(s => s.Status != SubscriptionStatus.Removed).Select(s => s with
                    {
                        Quantity = change.Quantity,
                        MonthlyRecurringCharge = change.Pricing?.MonthlyRecurringCharge ?? s.MonthlyRecurringCharge,
                        Currency = change.Pricing?.Currency ?? s.Currency,
                        Since = at,
                    }));
                    break;
            }
        }

        // One entry per subscription: the last state it reached.
        return [.. touched.GroupBy(s => s.SubscriptionId).Select(g => g.Last())];
    }
}
