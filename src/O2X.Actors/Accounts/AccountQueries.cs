using System.Collections.Immutable;
using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>Ask the Account entity for its current state; answered with <see cref="AccountView"/> or
/// <see cref="Messaging.EntityNotFound"/>.</summary>
internal sealed record GetAccount(string AccountId) : IWithAccountId, IO2XMessage;

/// <summary>Ask for one invoice by its sequence (1, 2, …) or full number; answered with <see cref="Invoice"/> or
/// <see cref="Messaging.EntityNotFound"/>.</summary>
internal sealed record GetInvoice(string AccountId, string Invoice) : IWithAccountId, IO2XMessage;

/// <summary>Ask for the charges posted for one order; answered with <see cref="OrderCharges"/>.</summary>
internal sealed record GetOrderCharges(string AccountId, string OrderId) : IWithAccountId, IO2XMessage;

internal sealed record OrderCharges(string AccountId, string OrderId, ImmutableArray<Charge> Charges, string? InvoiceNumber) : IO2XMessage;

/// <summary>An outstanding amount in one currency.</summary>
internal sealed record Balance(string Currency, decimal Amount);

internal sealed record InvoiceSummary(string InvoiceNumber, int Sequence, string OrderId, DateTimeOffset IssuedAt, DateOnly DueDate, string Currency, decimal Total, InvoiceStatus Status,
    int Revision, decimal Outstanding, string? Period = null);

/// <summary>Ask for the account's whole state, for the bill run; answered with <see cref="AccountState"/> or <see cref="Messaging.EntityNotFound"/>.</summary>
internal sealed record GetBillingState(string AccountId) : IWithAccountId, IO2XMessage;

/// <summary>
/// The bill run is done with the account: the entity passivates (its state stays in the journal), so a run over every account
/// keeps no more of them in memory than it is working on. No reply.
/// </summary>
internal sealed record ReleaseAfterBilling(string AccountId) : IWithAccountId, IO2XMessage;

/// <summary>What the read API shows of an account.</summary>
internal sealed record AccountView(
    string AccountId,
    DateTimeOffset OpenedAt,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    DateTimeOffset UpdatedAt,
    ImmutableArray<Subscription> Subscriptions,
    ImmutableDictionary<string, ImmutableArray<SubscriptionChange>> PendingChanges,
    ImmutableArray<Charge> Charges,
    ImmutableArray<Balance> Balances,
    ImmutableArray<InvoiceSummary> Invoices,
    ImmutableArray<LedgerEntry> Ledger,
    ImmutableArray<InvoiceAction> InvoiceHistory,
    int CycleDay = AccountState.DefaultCycleDay,
    BillingContact? BillingContact = null,
    ImmutableArray<Discount> Discounts = default) : IO2XMessage;
