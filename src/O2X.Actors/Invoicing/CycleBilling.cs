using System.Collections.Immutable;
using System.Globalization;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;

namespace O2X.Actors.Invoicing;

/// <summary>
/// An account's rated usage of one service on one plan within one price band (seed §4.2 steps 17–18), not billed yet.
/// <see cref="BandFrom"/> is the first chargeable unit of the band; null for the units the plan's allowance covered (amount 0).
/// <see cref="Rate"/> is null for usage rated before bands were recorded: then the line is the plan's whole amount.
/// </summary>
internal sealed record UsageCharge(string ServiceType, string PlanId, string UnitName, long? BandFrom, decimal? Rate, long Units, decimal Amount, long Records);

/// <summary>The terms every invoice of a run uses.</summary>
internal sealed record BillingTerms(decimal TaxRate, string DefaultCurrency, int PaymentTermDays)
{
    public static readonly BillingTerms Default = new(0m, "USD", Accounts.Billing.PaymentTermDays);
}

/// <summary>What closing one account's cycle gives.</summary>
internal abstract record CycleOutcome
{
    public sealed record Invoiced(Invoice Invoice, ImmutableArray<Charge> Charges) : CycleOutcome;

    /// <summary>No recurring charge and no usage in the cycle: no invoice.</summary>
    public sealed record NothingToBill : CycleOutcome;

    public sealed record AlreadyBilled(string InvoiceNumber) : CycleOutcome;

    public sealed record Refused(string ErrorCode, string Reason) : CycleOutcome;
}

/// <summary>
/// Closes one account's billing cycle (seed §4.2 phase 3, §4.1 steps 11–12): pure, no I/O. The invoice has
/// <list type="number">
/// <item><b>recurring</b> lines: each subscription's monthly charge × quantity, prorated to the day: each day is charged at the
/// subscription's latest change made on or before that day (UTC), so a change counts for the whole of the day it was made; days suspended or after removal are not charged, nor days an
/// order's first-month charge already covered. Amount = monthly × quantity × days ÷ days in the cycle, to the cent.</item>
/// <item><b>usage</b> lines: the rated, unbilled usage per service, plan and price band (allowance lines show 0).</item>
/// <item><b>discounts</b>, in this order: (1) each rating plan's discounts on that plan's usage; (2) the account's discounts
/// on recurring and usage after (1). Within each, percentages first, then fixed amounts, each group by effective date then
/// id; a percentage takes its share of what is left after the ones before it; a fixed amount never takes more than is
/// left (a discount never makes a charge negative) and applies only in its own currency. A discount counts for a cycle
/// when its effective dates overlap it.</item>
/// </list>
/// Subtotal = recurring + usage − discounts; tax = subtotal × the configured rate (0 by default); total = subtotal + tax.
/// The cycle summary adds what happened since the previous cycle's invoice and the amount due (the account's balance in the
/// invoice's currency once the total is posted). An account bills in one currency: the currency of its priced
/// subscriptions, else the configured default; a subscription priced in another currency refuses the account's cycle
/// (<c>CURRENCY_MISMATCH</c>) rather than bill it wrong.
/// </summary>
internal static class CycleBilling
{
    public static string InvoiceNumber(string accountId, BillingPeriod period) =>
        $"INV-{accountId}-{period.Start.ToString("yyyyMM", CultureInfo.InvariantCulture)}";

    public static CycleOutcome Close(AccountState account, BillingPeriod period, IReadOnlyList<UsageCharge> usage, IReadOnlyList<Discount> planDiscounts,
        BillingTerms terms, DateTimeOffset issuedAt)
    {
        var number = InvoiceNumber(account.AccountId, period);
        if (account.Invoices.Any(i => i.InvoiceNumber == number)) return new CycleOutcome.AlreadyBilled(number);

        var history = account.SubscriptionHistory;
        var currency = history.Where(s => s.MonthlyRecurringCharge > 0 && s.Currency is not null).Select(s => s.Currency!).FirstOrDefault()
                       ?? terms.DefaultCurrency;
        var lines = ImmutableArray.CreateBuilder<(InvoiceLine Line, string? PlanId)>();
        string NextId() => $"{number}-L{lines.Count + 1}";

        foreach (var subscription in history.GroupBy(s => s.SubscriptionId))
        {
            var versions = subscription.OrderBy(v => v.Since).ToList(); // stable: same-instant changes keep their order
            var first = versions[0];
            var covered = account.Charges
                .Where(c => c is { Kind: ChargeKind.Recurring, PeriodStart: not null, PeriodEnd: not null } && c.OrderId.Length > 0 &&
                            c.OrderId == first.OrderId && c.ProductCode == first.ProductCode)
                .Select(c => (From: c.PeriodStart!.Value, To: c.PeriodEnd!.Value)).ToList();
            foreach (var segment in Segments(versions, covered, period))
            {
                if (segment.Version.Currency is { } own && own != currency)
                    return new CycleOutcome.Refused(ErrorCodes.CurrencyMismatch,
                        $"Subscription {segment.Version.SubscriptionId} is priced in {own}, the account's other charges in {currency}; one invoice has one currency.");
                var v = segment.Version;
                var amount = Round(v.MonthlyRecurringCharge * v.Quantity * segment.Days / period.Days);
                lines.Add((new InvoiceLine(NextId(),
                    $"{v.ProductCode} × {v.Quantity} monthly charge {segment.From:yyyy-MM-dd} to {segment.To:yyyy-MM-dd} ({segment.Days}/{period.Days} days)",
                    v.ProductCode, ChargeKind.Recurring, v.Quantity, v.MonthlyRecurringCharge, amount), null));
            }
        }

        foreach (var u in usage.OrderBy(u => u.ServiceType, StringComparer.Ordinal).ThenBy(u => u.PlanId, StringComparer.Ordinal)
                     .ThenBy(u => u.BandFrom ?? -1))
        {
            var band = u.BandFrom switch
            {
                null => "included allowance",
                _ when u.Rate is null => "all bands",
                var from => $"from unit {from + 1:N0} at {u.Rate.Value.ToString("0.####", CultureInfo.InvariantCulture)}",
            };
            lines.Add((new InvoiceLine(NextId(), $"{u.ServiceType} usage, {u.PlanId}, {band}: {u.Units:N0} {u.UnitName.ToLowerInvariant()}(s), {u.Records:N0} record(s)",
                u.ServiceType, ChargeKind.Usage, u.Units, u.Rate ?? 0m, Round(u.Amount)), u.PlanId));
        }

        if (lines.Count == 0) return new CycleOutcome.NothingToBill();

        // (1) Plan discounts on that plan's usage.
        var discountLines = new List<InvoiceLine>();
        foreach (var plan in lines.Where(l => l.PlanId is not null).GroupBy(l => l.PlanId!, StringComparer.Ordinal))
        {
            var applicable = planDiscounts.Where(d => d.PlanId == plan.Key);
            var left = plan.Sum(l => l.Line.Amount);
            left = Apply(applicable, left, period, currency, $"plan {plan.Key} usage", discountLines, () => $"{number}-D{discountLines.Count + 1}");
        }

        // (2) Account discounts on recurring and usage, after the plan discounts.
        var afterPlans = lines.Sum(l => l.Line.Amount) + discountLines.Sum(d => d.Amount);
        Apply(account.Discounts, afterPlans, period, currency, "recurring and usage", discountLines, () => $"{number}-D{discountLines.Count + 1}");

        var charged = lines.Select(l => l.Line).Concat(discountLines).ToImmutableArray();
        var subtotal = Money.SaturatingSum(charged.Select(l => l.Amount));
        var tax = Round(subtotal * terms.TaxRate);
        if (tax != 0m) charged = charged.Add(new InvoiceLine($"{number}-T1", $"Tax {terms.TaxRate:P2}", "TAX", ChargeKind.Tax, 1, tax, tax));
        var total = subtotal + tax;

        // Since the previous cycle's invoice: payments, order charges (invoiced with their orders), notes and adjustments.
        var since = account.Invoices.Where(i => i.IsCycleInvoice).Select(i => i.IssuedAt).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        var payments = -Money.SaturatingSum(account.Ledger
            .Where(e => e.Counts && e.Kind == LedgerEntryKind.Payment && e.Currency == currency && e.PostedAt > since).Select(e => e.Amount));
        var activity = account.Charges.Where(c => c.OrderId.Length > 0 && c.Currency == currency && c.PostedAt > since)
            .Select(c => new InvoiceLine(c.ChargeId, $"{c.ProductCode} {(c.Kind == ChargeKind.OneTime ? "one-time" : "first month")} charge of order {c.OrderId}",
                c.ProductCode, c.Kind, c.Quantity, c.UnitPrice, c.Amount))
            .Concat(account.Ledger.Where(e => e.Counts && e.Kind != LedgerEntryKind.Payment && e.Currency == currency && e.PostedAt > since)
                .Select(e => new InvoiceLine(e.EntryId, $"{Describe(e.Kind)} {e.EntryId}{(e.Reason is { Length: > 0 } r ? ": " + r : "")}",
                    e.Kind.ToString().ToUpperInvariant(), ChargeKind.Adjustment, 1, e.Amount, e.Amount)))
            .ToImmutableArray();
        var balanceBefore = account.Balances().FirstOrDefault(b => b.Currency == currency)?.Amount ?? 0m;
        var amountDue = balanceBefore + total;
        var previous = amountDue - total - activity.Sum(a => a.Amount) + payments;

        var issuedDay = DateOnly.FromDateTime(issuedAt.UtcDateTime);
        var invoice = new Invoice(number, 0, account.AccountId, "", issuedAt, issuedDay.AddDays(terms.PaymentTermDays), currency, charged, subtotal, tax,
            total, InvoiceStatus.Issued, 0,
            new CycleSummary(period.Label, period.Start, period.End, discountLines.Sum(d => d.Amount), previous, payments, activity, amountDue,
                account.Contact?.Email));
        var charges = charged.Select(l => new Charge(l.ChargeId, "", l.Kind, l.ProductCode, l.Quantity, l.UnitPrice, l.Amount, currency, period.Start,
            period.End.AddDays(-1), issuedAt)).ToImmutableArray();
        return new CycleOutcome.Invoiced(invoice, charges);
    }

    /// <summary>A stretch of consecutive chargeable days at one state of a subscription.</summary>
    private readonly record struct Segment(Subscription Version, DateOnly From, DateOnly To, int Days);

    private static IEnumerable<Segment> Segments(List<Subscription> versions, List<(DateOnly From, DateOnly To)> covered, BillingPeriod period)
    {
        Subscription? open = null;
        DateOnly from = default;
        var days = 0;
        for (var day = period.Start; day < period.End; day = day.AddDays(1))
        {
            var state = versions.LastOrDefault(v => DateOnly.FromDateTime(v.Since.UtcDateTime) <= day);
            var chargeable = state is { Status: SubscriptionStatus.Active, MonthlyRecurringCharge: > 0 } && !covered.Any(c => day >= c.From && day <= c.To);
            var same = chargeable && open is not null && open.Quantity == state!.Quantity && open.MonthlyRecurringCharge == state.MonthlyRecurringCharge &&
                       open.Currency == state.Currency;
            if (same)
            {
                days++;
                continue;
            }

            if (open is not null) yield return new Segment(open, from, day.AddDays(-1), days);
            open = chargeable ? state : null;
            from = day;
            days = chargeable ? 1 : 0;
        }

        if (open is not null) yield return new Segment(open, from, period.End.AddDays(-1), days);
    }

    /// <summary>Applies the discounts in force (percentages, then fixed amounts) to <paramref name="left"/>; returns what is left.</summary>
    private static decimal Apply(IEnumerable<Discount> discounts, decimal left, BillingPeriod period, string currency, string what, List<InvoiceLine> into,
        Func<string> nextId)
    {
        var inForce = discounts.Where(d => d.EffectiveFrom < period.End && (d.EffectiveTo is null || d.EffectiveTo >= period.Start))
            .OrderBy(d => d.Kind == DiscountKind.Percentage ? 0 : 1).ThenBy(d => d.EffectiveFrom).ThenBy(d => d.DiscountId, StringComparer.Ordinal);
        foreach (var d in inForce)
        {
            if (left <= 0m) break;
            decimal amount;
            string label;
            if (d.Kind == DiscountKind.Percentage)
            {
                amount = Math.Min(left, Round(left * d.Value / 100m));
                label = $"{d.Value.ToString("0.##", CultureInfo.InvariantCulture)}% off {what}";
            }
            else
            {
                if (d.Currency != currency) continue;
                amount = Math.Min(left, d.Value);
                label = $"{d.Value.ToString("0.00", CultureInfo.InvariantCulture)} {d.Currency} off {what}";
            }

            if (amount <= 0m) continue;
            left -= amount;
            into.Add(new InvoiceLine(nextId(), $"Discount {d.DiscountId}{(d.Description is { Length: > 0 } text ? " (" + text + ")" : "")}: {label}",
                d.PlanId ?? "ACCOUNT", ChargeKind.Discount, 1, -amount, -amount));
        }

        return left;
    }

    private static string Describe(LedgerEntryKind kind) => kind switch
    {
        LedgerEntryKind.CreditNote => "Credit note",
        LedgerEntryKind.DebitNote => "Debit note",
        _ => "Adjustment",
    };

    private static decimal Round(decimal amount) => Accounts.Billing.Round(amount);
}
