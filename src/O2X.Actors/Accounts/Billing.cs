using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;

namespace O2X.Actors.Accounts;

/// <summary>
/// Charges for a completed order and the invoice for them (seed §4.1 steps 11-12). Pure; amounts are
/// rounded half-away-from-zero to cents. No tax is computed (tax engines are outside O2X's scope): the
/// invoice carries <c>tax = 0</c> explicitly.
/// </summary>
internal static class Billing
{
    /// <summary>Days from issue to due date (net 30).</summary>
    public const int PaymentTermDays = 30;

    /// <summary>
    /// One-time charges for every priced line with a one-time charge, and the first month's recurring
    /// charge for every line that adds a service.
    /// </summary>
    public static ImmutableArray<Charge> ChargesFor(string orderId, ImmutableArray<SubscriptionChange> changes, DateTimeOffset completedAt)
    {
        var charges = ImmutableArray.CreateBuilder<Charge>();
        var start = DateOnly.FromDateTime(completedAt.UtcDateTime);
        foreach (var change in changes)
        {
            if (change.Pricing is not { } price) continue;
            if (price.OneTimeCharge > 0)
                charges.Add(Charge(orderId, charges.Count + 1, ChargeKind.OneTime, change, price.OneTimeCharge, price.Currency, null, null, completedAt));
            if (price.MonthlyRecurringCharge > 0 && change.Action == ServiceAction.Add && change.OrderType is OrderType.New or OrderType.Modify)
                charges.Add(Charge(orderId, charges.Count + 1, ChargeKind.Recurring, change, price.MonthlyRecurringCharge, price.Currency,
                    start, start.AddMonths(1).AddDays(-1), completedAt));
        }

        return charges.ToImmutable();
    }

    public static Invoice InvoiceFor(string accountId, int sequence, string orderId, ImmutableArray<Charge> charges, DateTimeOffset issuedAt)
    {
        if (charges.IsEmpty) throw new ArgumentException("An invoice needs at least one charge.", nameof(charges));
        var currency = charges[0].Currency;
        if (charges.Any(c => c.Currency != currency)) throw new ArgumentException("An invoice has one currency.", nameof(charges));

        var lines = charges.Select(c => new InvoiceLine(c.ChargeId, Describe(c), c.ProductCode, c.Kind, c.Quantity, c.UnitPrice, c.Amount)).ToImmutableArray();
        var subtotal = Money.SaturatingSum(lines.Select(l => l.Amount));
        return new Invoice(
            $"INV-{accountId}-{sequence:0000}",
            sequence,
            accountId,
            orderId,
            issuedAt,
            DateOnly.FromDateTime(issuedAt.UtcDateTime).AddDays(PaymentTermDays),
            currency,
            lines,
            subtotal,
            Tax: 0m,
            Total: subtotal,
            InvoiceStatus.Issued);
    }

    public static decimal Round(decimal amount) => Math.Round(amount, 2, MidpointRounding.AwayFromZero);

    private static Charge Charge(string orderId, int n, ChargeKind kind, SubscriptionChange change, decimal unitPrice, string currency,
        DateOnly? periodStart, DateOnly? periodEnd, DateTimeOffset at) =>
        new($"{orderId}-C{n}", orderId, kind, change.ProductCode, change.Quantity, unitPrice,
            Round(Money.Multiply(unitPrice, change.Quantity, $"The {kind.ToString().ToLowerInvariant()} charge of {change.ProductCode}")), currency,
            periodStart, periodEnd, at);

    private static string Describe(Charge charge) => charge.Kind switch
    {
        ChargeKind.OneTime => $"{charge.ProductCode} one-time charge",
        _ => $"{charge.ProductCode} monthly charge {charge.PeriodStart:yyyy-MM-dd} to {charge.PeriodEnd:yyyy-MM-dd}",
    };
}
