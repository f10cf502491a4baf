using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>A persisted fact about an account. Never reshape one in place: add a new version.</summary>
internal interface IAccountEvent : IWithAccountId, IO2XMessage
{
    string MessageId { get; }
    DateTimeOffset At { get; }
}

internal sealed record AccountOpened(string AccountId, string MessageId, string? OpenedForOrderId, DateTimeOffset At) : IAccountEvent;

/// <summary>Seed §6.1 ACCOUNT UPDATE applied; carries the OMS message verbatim (OMS_ARCHIVE).</summary>
internal sealed record AccountUpdated(
    string AccountId,
    IntakeRecord Intake,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    DateTimeOffset At,
    BillingContact? Contact = null,
    int? CycleDay = null,
    ImmutableArray<Discount>? Discounts = null,
    ImmutableArray<string>? RemovedDiscounts = null) : IAccountEvent, IHasIntake
{
    public string MessageId => Intake.MessageId;
}

internal sealed record SubscriptionChangesRequested(
    string AccountId,
    string MessageId,
    string OrderId,
    ImmutableArray<SubscriptionChange> Changes,
    DateTimeOffset At) : IAccountEvent;

/// <summary>The completed order's changes, applied: the resulting subscriptions of the products it touched.</summary>
internal sealed record SubscriptionChangesApplied(
    string AccountId,
    string MessageId,
    string OrderId,
    ImmutableArray<Subscription> Subscriptions,
    DateTimeOffset At) : IAccountEvent;

internal sealed record SubscriptionChangesAbandoned(string AccountId, string MessageId, string OrderId, string Reason, DateTimeOffset At) : IAccountEvent;

/// <summary>
/// Saga compensation (seed 002): an order cancelled or failed after it completed on the account. The subscriptions it added
/// end at <see cref="At"/>, and what it was charged is credited in full (<see cref="CreditNote"/>, <c>CN-{order}</c>; none
/// when it charged nothing).
/// </summary>
internal sealed record OrderCompensated(string AccountId, string MessageId, string OrderId, ImmutableArray<Subscription> Ended, LedgerEntry? CreditNote,
    string Reason, DateTimeOffset At) : IAccountEvent;

internal sealed record ChargesPosted(string AccountId, string MessageId, string OrderId, ImmutableArray<Charge> Charges, DateTimeOffset At) : IAccountEvent;

/// <summary>An order's invoice; <see cref="BillingEmail"/> is where it is sent (the account's billing contact then, if it had one).</summary>
internal sealed record InvoiceIssued(string AccountId, string MessageId, Invoice Invoice, DateTimeOffset At, string? BillingEmail = null) : IAccountEvent;

/// <summary>The invoice was issued again (REGENERATE_INVOICE): same number, recomputed from its charges, next revision.</summary>
internal sealed record InvoiceRegenerated(string AccountId, string MessageId, Invoice Invoice, string? Reason, string JobId, DateTimeOffset At) : IAccountEvent;

/// <summary>The invoice was sent to the vendor again (RESEND_INVOICE_TO_VENDOR).</summary>
internal sealed record InvoiceResent(string AccountId, string MessageId, string InvoiceNumber, string? Vendor, string? Reason, string JobId, DateTimeOffset At)
    : IAccountEvent;

/// <summary>The invoice no longer stands (CANCEL_INVOICE): it is not owed any more.</summary>
internal sealed record InvoiceCancelled(string AccountId, string MessageId, string InvoiceNumber, string Reason, string JobId, DateTimeOffset At) : IAccountEvent;

/// <summary>A payment, credit note, debit note or adjustment was posted.</summary>
internal sealed record LedgerEntryPosted(string AccountId, string MessageId, LedgerEntry Entry, DateTimeOffset At) : IAccountEvent;

/// <summary>A payment or adjustment was reversed (REVERSE_PAYMENT, REVERSE_ADJUSTMENT).</summary>
internal sealed record LedgerEntryReversed(string AccountId, string MessageId, string EntryId, string Reason, DateTimeOffset At) : IAccountEvent;

/// <summary>A billing cycle's invoice (the monthly bill run) and the charges it posted: recurring, usage, discounts, tax.</summary>
internal sealed record CycleInvoiceIssued(string AccountId, string MessageId, Invoice Invoice, ImmutableArray<Charge> Charges, DateTimeOffset At) : IAccountEvent;
