using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>A persisted fact about an account. Never reshape one in place: add a new version.</summary>
public interface IAccountEvent : IWithAccountId, IO2XMessage
{
    string MessageId { get; }
    DateTimeOffset At { get; }
}

public sealed record AccountOpened(string AccountId, string MessageId, string? OpenedForOrderId, DateTimeOffset At) : IAccountEvent;

public sealed record AccountUpdated(
    string AccountId,
    string MessageId,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    DateTimeOffset At) : IAccountEvent;
