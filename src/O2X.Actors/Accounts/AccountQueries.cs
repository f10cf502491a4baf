using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>Ask the Account entity for its current state; answered with <see cref="AccountView"/> or
/// <see cref="Messaging.EntityNotFound"/>.</summary>
public sealed record GetAccount(string AccountId) : IWithAccountId, IO2XMessage;

/// <summary>What the read API shows of an account.</summary>
public sealed record AccountView(
    string AccountId,
    DateTimeOffset OpenedAt,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    DateTimeOffset UpdatedAt) : IO2XMessage;
