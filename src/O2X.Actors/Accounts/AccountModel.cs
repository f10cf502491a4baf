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

internal enum ChargeKind { OneTime, Recurring }

/// <summary>A charge posted to the account (seed §4.1 step 11).</summary>
internal sealed record Charge(
    string ChargeId,
    string OrderId,
    ChargeKind Kind,
    string ProductCode,
    int Quantity,
    decimal UnitPrice,
    decimal Amount,
    string Currency,
    DateOnly? PeriodStart,
    DateOnly? PeriodEnd,
    DateTimeOffset PostedAt);

internal sealed record InvoiceLine(string ChargeId, string Description, string ProductCode, ChargeKind Kind, int Quantity, decimal UnitPrice, decimal Amount);

internal enum InvoiceStatus { Issued, Cancelled }

/// <summary>An invoice (seed §4.1 step 12): number, lines, totals, currency, due date; <see cref="Revision"/> counts regenerations.</summary>
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
    int Revision = 0) : Serialization.IO2XMessage;
