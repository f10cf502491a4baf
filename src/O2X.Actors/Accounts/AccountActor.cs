using Akka.Actor;
using O2X.Actors.Messaging;
using O2X.Actors.Sharding;

namespace O2X.Actors.Accounts;

/// <summary>The sharded, persistent Account entity (<c>account-{id}</c>).</summary>
internal sealed class AccountActor : EventSourcedEntity<AccountState, IAccountCommand, IAccountEvent>
{
    public AccountActor(string accountId, int snapshotEvery)
        : base("account-" + accountId, AccountState.Empty(accountId), snapshotEvery)
    {
        Command<GetAccount>(_ => Sender.Tell(State.IsOpen ? State.ToView() : new EntityNotFound(accountId), Self));
        Command<GetInvoice>(q => Sender.Tell((object?)State.FindInvoice(q.Invoice) ?? new EntityNotFound(q.Invoice), Self));
        Command<GetOrderCharges>(q => Sender.Tell(State.ChargesOf(q.OrderId), Self));
        Command<GetBillingState>(_ => Sender.Tell(State.IsOpen ? State : new EntityNotFound(accountId), Self));
        // Through the shard, so messages that arrive meanwhile wait for the entity's next incarnation instead of being lost.
        Command<ReleaseAfterBilling>(_ => Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(PoisonPill.Instance)));
    }

    protected override Decision<IAccountEvent> Decide(AccountState state, IAccountCommand command) => AccountState.Decide(state, command);

    protected override AccountState Apply(AccountState state, IAccountEvent @event) => state.Apply(@event);
}
