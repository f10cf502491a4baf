using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>Routes a message to the Account entity it concerns (the shard extractor reads this).</summary>
public interface IWithAccountId
{
    string AccountId { get; }
}

/// <summary>A command to the Account entity.</summary>
public interface IAccountCommand : IWithAccountId, IO2XMessage
{
    /// <summary>The inbound message that caused the command: the idempotency key.</summary>
    string MessageId { get; }
}

/// <summary>Open the account if it does not exist yet (a NEW order for an unknown account, seed §4.1 step 5).</summary>
public sealed record OpenAccount(string AccountId, string MessageId, string? OpenedForOrderId, DateTimeOffset At) : IAccountCommand;

/// <summary>Seed §6.1 ACCOUNT UPDATE: change billing address and/or payment method.</summary>
public sealed record UpdateAccount(
    string AccountId,
    string MessageId,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    DateTimeOffset At) : IAccountCommand;
