using O2X.Actors.Accounts;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public class AccountStateTests
{
    private static readonly DateTimeOffset At = new(2024, 2, 11, 11, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Opening_an_unknown_account_persists_it_once()
    {
        var state = AccountState.Empty("ACC-1");

        var first = AccountState.Decide(state, new OpenAccount("ACC-1", "m1", "ORD-1", At));
        var opened = first.Events.Aggregate(state, (s, e) => s.Apply(e));
        var second = AccountState.Decide(opened, new OpenAccount("ACC-1", "m2", "ORD-2", At.AddMinutes(1)));

        first.Events.Should().ContainSingle().Which.Should().BeOfType<AccountOpened>();
        opened.IsOpen.Should().BeTrue();
        opened.OpenedAt.Should().Be(At);
        second.Events.Should().BeEmpty("an open account stays as it is");
        second.Reply.Should().Be(new CommandDone("ACC-1", WasDuplicate: false));
    }

    [Fact]
    public void Updating_an_unknown_account_is_refused_with_account_not_found()
    {
        var decision = AccountState.Decide(AccountState.Empty("ACC-404"), new UpdateAccount("ACC-404", "m1", null, null, At));

        decision.Reply.Should().BeOfType<CommandRefused>().Which.ErrorCode.Should().Be(ErrorCodes.AccountNotFound);
        decision.Events.Should().BeEmpty();
    }

    [Fact]
    public void An_update_changes_only_what_it_carries()
    {
        var address = new PostalAddress("789 New Street", "Guadalajara", "Jalisco", "44100", null);
        var payment = new PaymentMethod("CREDIT_CARD", "tok_visa_1234", true);
        var state = AccountState.Empty("ACC-1")
            .Apply(new AccountOpened("ACC-1", "m0", null, At))
            .Apply(new AccountUpdated("ACC-1", "m1", address, payment, At.AddMinutes(1)));

        var decision = AccountState.Decide(state, new UpdateAccount("ACC-1", "m2", null, payment with { Token = "tok_new" }, At.AddMinutes(2)));
        var after = decision.Events.Aggregate(state, (s, e) => s.Apply(e));

        after.BillingAddress.Should().Be(address);
        after.PaymentMethod!.Token.Should().Be("tok_new");
        after.UpdatedAt.Should().Be(At.AddMinutes(2));
    }

    [Fact]
    public void A_redelivered_update_is_a_duplicate()
    {
        var state = AccountState.Empty("ACC-1")
            .Apply(new AccountOpened("ACC-1", "m0", null, At))
            .Apply(new AccountUpdated("ACC-1", "m1", null, new PaymentMethod("CARD", "tok", false), At));

        var decision = AccountState.Decide(state, new UpdateAccount("ACC-1", "m1", null, new PaymentMethod("CARD", "tok2", false), At));

        decision.Events.Should().BeEmpty();
        decision.Reply.Should().Be(new CommandDone("ACC-1", WasDuplicate: true));
    }
}
