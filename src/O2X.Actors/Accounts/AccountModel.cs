using System.Collections.Immutable;
using O2X.Actors.Orders;

namespace O2X.Actors.Accounts;

/// <summary>Seed §6.1 <c>billing_address</c> / <c>service_address</c>.</summary>
internal sealed record PostalAddress(string? Street, string? City, string? State, string? PostalCode, string? Country);

/// <summary>
/// A payment method by reference only: O2X stores the processor's token, never a card number.
/// </summary>
internal sealed record PaymentMethod(string Type, string Token, bool IsDefault);

internal enum SubscriptionStatus { Active, Suspended, Removed }

/// <summary>A product the account has (seed §4.1 step 5 "create subs"); created when its order completes.</summary>
internal sealed record Subscription(
    string SubscriptionId,
    string OrderId,
    string ProductCode,
    int Quantity,
    decimal MonthlyRecurringCharge,
    string? Currency,
    SubscriptionStatus Status,
    DateTimeOffset Since);

/// <summary>What an order will do to the account's subscriptions once it completes.</summary>
internal sealed record SubscriptionChange(OrderType OrderType, ServiceAction Action, string ProductCode, int Quantity, Pricing? Pricing);

/// <summary>
/// What a charge or invoice line is. <c>Usage</c>, <c>Discount</c>, <c>Tax</c> and <c>Adjustment</c> come from the monthly bill
/// run (<see cref="Invoicing.CycleBilling"/>); appended only, never reordered (stored as names).
/// </summary>
internal enum ChargeKind { OneTime, Recurring, Usage, Discount, Tax, Adjustment }

/// <summary>A charge posted to the account (seed §4.1 step 11).</summary>
internal sealed record Charge(
    string ChargeId,
    string OrderId,
    ChargeKind Kind,
    string ProductCode,
    long Quantity,
    decimal UnitPrice,
    decimal Amount,
    string Currency,
    DateOnly? PeriodStart,
    DateOnly? PeriodEnd,
    DateTimeOffset PostedAt);

internal sealed record InvoiceLine(string ChargeId, string Description, string ProductCode, ChargeKind Kind, long Quantity, decimal UnitPrice, decimal Amount);

internal enum InvoiceStatus { Issued, Cancelled }

/// <summary>
/// An invoice (seed §4.1 step 12): number, lines, totals, currency, due date; <see cref="Revision"/> counts regenerations.
/// An order's invoice names its order; a billing cycle's invoice (the monthly bill run, <see cref="Invoicing.CycleBilling"/>)
/// has an empty <see cref="OrderId"/> and carries its <see cref="Cycle"/>: the period, what happened on the account since the
/// previous cycle (<see cref="CycleSummary.Activity"/>), and the amount due.
/// </summary>
internal sealed record Invoice(
    string InvoiceNumber,
    int Sequence,
    string AccountId,
    string OrderId,
    DateTimeOffset IssuedAt,
    DateOnly DueDate,
    string Currency,
    ImmutableArray<InvoiceLine> Lines,
    decimal Subtotal,
    decimal Tax,
    decimal Total,
    InvoiceStatus Status,
    int Revision = 0,
    CycleSummary? Cycle = null) : Serialization.IO2XMessage
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsCycleInvoice => Cycle is not null;
}

/// <summary>
/// What a billing cycle's invoice says beyond its lines: the period (<c>[Start, End)</c>, <see cref="Period"/> is its
/// <c>yyyy-MM</c> label), the discounts in the subtotal, and the account's movement since the previous cycle's invoice:
/// <c>PreviousBalance − PaymentsReceived + Activity + Total = AmountDue</c>, where <see cref="Activity"/> lists the order
/// charges (invoiced with their orders) and the credit notes, debit notes and adjustments posted since.
/// </summary>
internal sealed record CycleSummary(
    string Period,
    DateOnly Start,
    DateOnly End,
    decimal Discounts,
    decimal PreviousBalance,
    decimal PaymentsReceived,
    ImmutableArray<InvoiceLine> Activity,
    decimal AmountDue,
    string? BillingEmail);

/// <summary>Who receives the account's invoices (OMS account data: <c>billing_contact</c>).</summary>
internal sealed record BillingContact(string Email, string? Name);

internal enum DiscountKind { Percentage, FixedAmount }

/// <summary>
/// A discount in force from <see cref="EffectiveFrom"/> to <see cref="EffectiveTo"/> (inclusive; open-ended when null): a
/// percentage (<see cref="Value"/> 0–100) or a fixed amount in <see cref="Currency"/>. On an account (ACCOUNT UPDATE) it
/// reduces the cycle's recurring and usage charges; on a rating plan (price-sync, <see cref="PlanId"/> set) the usage
/// charges of that plan. The order they apply in is <see cref="Invoicing.CycleBilling"/>'s.
/// </summary>
internal sealed record Discount(
    string DiscountId,
    DiscountKind Kind,
    decimal Value,
    string? Currency,
    DateOnly EffectiveFrom,
    DateOnly? EffectiveTo,
    string? Description = null,
    string? PlanId = null);
