using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>
/// The state of one account, with the pure <see cref="Decide"/> and <see cref="Apply"/> that the
/// <see cref="AccountActor"/> drives. Also the snapshot format.
/// </summary>
public sealed record AccountState(
    string AccountId,
    bool IsOpen,
    DateTimeOffset OpenedAt,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    DateTimeOffset UpdatedAt,
    MessageIdWindow Processed) : IO2XMessage
{
    public static AccountState Empty(string accountId) =>
        new(accountId, false, default, null, null, default, MessageIdWindow.Empty);

    public AccountView ToView() => new(AccountId, OpenedAt, BillingAddress, PaymentMethod, UpdatedAt);

    public static Decision<IAccountEvent> Decide(AccountState state, IAccountCommand command)
    {
        if (state.Processed.Contains(command.MessageId))
            return Decision<IAccountEvent>.Answer(new CommandDone(state.AccountId, WasDuplicate: true));

        return command switch
        {
            OpenAccount open => state.IsOpen
                ? Decision<IAccountEvent>.Answer(new CommandDone(state.AccountId, WasDuplicate: false))
                : Decision<IAccountEvent>.Persist(new CommandDone(state.AccountId, false),
                    new AccountOpened(open.AccountId, open.MessageId, open.OpenedForOrderId, open.At)),
            UpdateAccount update => !state.IsOpen
                ? Decision<IAccountEvent>.Refuse(state.AccountId, ErrorCodes.AccountNotFound, $"Account {state.AccountId} does not exist.")
                : Decision<IAccountEvent>.Persist(new CommandDone(state.AccountId, false),
                    new AccountUpdated(update.AccountId, update.MessageId, update.BillingAddress, update.PaymentMethod, update.At)),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown account command"),
        };
    }

    public AccountState Apply(IAccountEvent @event) => (@event switch
    {
        AccountOpened e => this with { IsOpen = true, OpenedAt = e.At, UpdatedAt = e.At },
        AccountUpdated e => this with
        {
            BillingAddress = e.BillingAddress ?? BillingAddress,
            PaymentMethod = e.PaymentMethod ?? PaymentMethod,
            UpdatedAt = e.At,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "unknown account event"),
    }) with { Processed = Processed.Add(@event.MessageId) };
}
