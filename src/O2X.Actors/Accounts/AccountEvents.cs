using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>A persisted fact about an account. Never reshape one in place: add a new version.</summary>
public interface IAccountEvent : IWithAccountId, IO2XMessage
{
    string MessageId { get; }
    DateTimeOffset At { get; }
}

public sealed record AccountOpened(string AccountId, string MessageId, string? OpenedForOrderId, DateTimeOffset At) : IAccountEvent;

/// <summary>Seed §6.1 ACCOUNT UPDATE applied; carries the OMS message verbatim (OMS_ARCHIVE).</summary>
public sealed record AccountUpdated(
    string AccountId,
    IntakeRecord Intake,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    DateTimeOffset At) : IAccountEvent, IHasIntake
{
    public string MessageId => Intake.MessageId;
}

public sealed record SubscriptionChangesRequested(
    string AccountId,
    string MessageId,
    string OrderId,
    ImmutableArray<SubscriptionChange> Changes,
    DateTimeOffset At) : IAccountEvent;

/// <summary>The completed order's changes, applied: the resulting subscriptions of the products it touched.</summary>
public sealed record SubscriptionChangesApplied(
    string AccountId,
    string MessageId,
    string OrderId,
    ImmutableArray<Subscription> Subscriptions,
    DateTimeOffset At) : IAccountEvent;

public sealed record SubscriptionChangesAbandoned(string AccountId, string MessageId, string OrderId, string Reason, DateTimeOffset At) : IAccountEvent;

public sealed record ChargesPosted(string AccountId, string MessageId, string OrderId, ImmutableArray<Charge> Charges, DateTimeOffset At) : IAccountEvent;

public sealed record InvoiceIssued(string AccountId, string MessageId, Invoice Invoice, DateTimeOffset At) : IAccountEvent;
