using Akka.Actor;
using O2X.Actors.Messaging;
using O2X.Actors.Sharding;

namespace O2X.Actors.Accounts;

/// <summary>The sharded, persistent Account entity (<c>account-{id}</c>).</summary>
internal sealed class AccountActor : EventSourcedEntity<AccountState, IAccountCommand, IAccountEvent>
{
    private readonly string _accountId;

    public AccountActor(string accountId, int snapshotEvery)
        : base("account-" + accountId, AccountState.Empty(accountId), snapshotEvery) =>
        _accountId = accountId;

    protected override bool Query(object message)
    {
        switch (message)
        {
            case GetAccount:
                Sender.Tell(State.IsOpen ? State.ToView() : new EntityNotFound(_accountId), Self);
                return true;
            case GetInvoice q:
                Sender.Tell((object?)State.FindInvoice(q.Invoice) ?? new EntityNotFound(q.Invoice), Self);
                return true;
            case GetOrderCharges q:
                Sender.Tell(State.ChargesOf(q.OrderId), Self);
                return true;
            case GetBillingState:
                Sender.Tell(State.IsOpen ? State : new EntityNotFound(_accountId), Self);
                return true;
            case ReleaseAfterBilling:
                // Through the shard, so messages that arrive meanwhile wait for the entity's next incarnation instead of being lost.
                PassivateNow();
                return true;
            default:
                return false;
        }
    }

    protected override Decision<IAccountEvent> Decide(AccountState state, IAccountCommand command) => AccountState.Decide(state, command);

    protected override AccountState Apply(AccountState state, IAccountEvent @event) => state.Apply(@event);
}
