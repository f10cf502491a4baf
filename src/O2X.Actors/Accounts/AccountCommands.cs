using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>Routes a message to the Account entity it concerns (the shard extractor reads this).</summary>
internal interface IWithAccountId
{
    string AccountId { get; }
}

/// <summary>A command to the Account entity.</summary>
internal interface IAccountCommand : IWithAccountId, IO2XMessage
{
    /// <summary>The inbound message that caused the command: the idempotency key.</summary>
    string MessageId { get; }
}

/// <summary>
/// An order arrives for this account (seed §4.1 step 5): open the account if the order may create it (NEW),
/// check the order's subscription changes against what the account has, and record them as pending.
/// Idempotent per order id.
/// </summary>
internal sealed record PrepareOrder(
    string AccountId,
    string MessageId,
    string OrderId,
    bool OpenIfMissing,
    ImmutableArray<SubscriptionChange> Changes,
    DateTimeOffset At) : IAccountCommand;

/// <summary>Seed §6.1 ACCOUNT UPDATE: change billing address, payment method, billing contact, billing cycle day and/or discounts.</summary>
internal sealed record UpdateAccount(
    string AccountId,
    IntakeRecord Intake,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    BillingContact? Contact = null,
    int? CycleDay = null,
    ImmutableArray<Discount>? Discounts = null,
    ImmutableArray<string>? RemovedDiscounts = null) : IAccountCommand
{
    public string MessageId => Intake.MessageId;
}

/// <summary>
/// The order completed: apply its subscription changes and post its charges (seed §4.1 step 11). Carries the
/// order's changes so the account can apply them even if their request was never recorded (a crash between
/// the order and the account step).
/// </summary>
internal sealed record ApplyCompletedOrder(
    string AccountId,
    string MessageId,
    string OrderId,
    ImmutableArray<SubscriptionChange> Changes,
    DateTimeOffset CompletedAt) : IAccountCommand;

/// <summary>The order failed or was cancelled: its requested changes will not happen.</summary>
internal sealed record AbandonOrderChanges(string AccountId, string MessageId, string OrderId, string Reason, DateTimeOffset At) : IAccountCommand;

/// <summary>Invoice the order's charges (seed §4.1 step 12).</summary>
internal sealed record IssueOrderInvoice(string AccountId, string MessageId, string OrderId, DateTimeOffset At) : IAccountCommand;

/// <summary>
/// One item of a BULK job (seed §4.3, §6.5) for this account. <see cref="MessageId"/> is the item's key
/// (<c>{job}#{index}</c>), so the same item delivered again has no second effect.
/// </summary>
internal sealed record ApplyBulkOperation(string AccountId, string MessageId, string JobId, BulkOperation Operation, DateTimeOffset At) : IAccountCommand;

/// <summary>
/// Record a billing cycle's invoice that the bill run has committed (with the usage it billed, in one transaction). The
/// invoice number (<c>INV-{account}-{yyyyMM}</c>) is the idempotency key: the run sends it again after a crash.
/// </summary>
internal sealed record RecordCycleInvoice(string AccountId, Invoice Invoice, ImmutableArray<Charge> Charges, DateTimeOffset At) : IAccountCommand
{
    public string MessageId => Invoice.InvoiceNumber;
}
