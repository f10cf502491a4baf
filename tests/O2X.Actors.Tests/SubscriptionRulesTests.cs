using System.Collections.Immutable;
using O2X.Actors.Accounts;
using O2X.Actors.Orders;
using static O2X.Actors.Tests.TestData;

namespace O2X.Actors.Tests;

public class SubscriptionRulesTests
{
    private static readonly ImmutableArray<Subscription> Active =
        [new("ORD-1-S1", "ORD-1", "INTERNET_100", 1, 50m, "USD", SubscriptionStatus.Active, At)];

    [Theory]
    [InlineData("Suspend", "Change", "INTERNET_100", true)]
    [InlineData("Suspend", "Change", "VOICE_BASIC", false)]
    [InlineData("Resume", "Change", "INTERNET_100", false)]
    [InlineData("Modify", "Remove", "INTERNET_100", true)]
    [InlineData("Modify", "Remove", "VOICE_BASIC", false)]
    [InlineData("Modify", "Change", "VOICE_BASIC", false)]
    [InlineData("Modify", "Add", "VOICE_BASIC", true)]
    public void What_an_order_may_change_depends_on_what_the_account_has(string type, string action, string product, bool allowed)
    {
        var changes = SubscriptionRules.ChangesOf(Details(type: Enum.Parse<OrderType>(type), lines: Line(Enum.Parse<ServiceAction>(action), product)));

        (SubscriptionRules.Check(Active, changes) is null).Should().Be(allowed);
    }

    [Fact]
    public void Suspend_resume_change_and_remove_update_the_subscription_in_place()
    {
        var suspended = Apply(Active, OrderType.Suspend, ServiceAction.Change);
        var resumed = Apply([.. suspended], OrderType.Resume, ServiceAction.Change);
        var changed = Apply(Active, OrderType.Modify, ServiceAction.Change, quantity: 3, mrc: 45m);
        var removed = Apply(Active, OrderType.Modify, ServiceAction.Remove);

        suspended.Single().Status.Should().Be(SubscriptionStatus.Suspended);
        resumed.Single().Status.Should().Be(SubscriptionStatus.Active);
        changed.Single().Should().BeEquivalentTo(new { SubscriptionId = "ORD-1-S1", Quantity = 3, MonthlyRecurringCharge = 45m });
        removed.Single().Status.Should().Be(SubscriptionStatus.Removed);
    }

    private static ImmutableArray<Subscription> Apply(ImmutableArray<Subscription> current, OrderType type, ServiceAction action, int quantity = 1, decimal mrc = 50m) =>
        SubscriptionRules.Apply(current, "ORD-2", SubscriptionRules.ChangesOf(Details(type: type, lines: Line(action, quantity: quantity, mrc: mrc))), At);
}
