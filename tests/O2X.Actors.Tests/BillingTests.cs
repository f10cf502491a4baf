using O2X.Actors.Accounts;
using O2X.Actors.Orders;
using static O2X.Actors.Tests.TestData;

namespace O2X.Actors.Tests;

public class BillingTests
{
    [Fact]
    public void The_seed_order_is_charged_99_once_and_50_for_the_first_month()
    {
        var charges = Billing.ChargesFor("ORD-1", SubscriptionRules.ChangesOf(Details()), At);

        charges.Select(c => (c.ChargeId, c.Kind, c.Amount)).Should().Equal(
            ("ORD-1-C1", ChargeKind.OneTime, 99.00m), ("ORD-1-C2", ChargeKind.Recurring, 50.00m));
    }

    [Fact]
    public void Amounts_are_unit_price_times_quantity_rounded_to_cents()
    {
        var charges = Billing.ChargesFor("ORD-1", SubscriptionRules.ChangesOf(Details(lines: Line(quantity: 3, mrc: 19.995m, otc: 0m))), At);

        charges.Should().ContainSingle().Which.Amount.Should().Be(59.99m); // 59.985 rounds half away from zero
    }

    [Fact]
    public void Suspensions_and_removals_carry_no_recurring_charge()
    {
        var suspend = Billing.ChargesFor("ORD-1", SubscriptionRules.ChangesOf(Details(type: OrderType.Suspend, lines: Line(otc: 0m))), At);
        var remove = Billing.ChargesFor("ORD-1", SubscriptionRules.ChangesOf(Details(type: OrderType.Modify, lines: Line(ServiceAction.Remove, otc: 10m))), At);

        suspend.Should().BeEmpty();
        remove.Should().ContainSingle().Which.Kind.Should().Be(ChargeKind.OneTime);
    }

    [Fact]
    public void A_recurring_period_at_month_end_ends_the_day_before_the_same_day_next_month()
    {
        var charges = Billing.ChargesFor("ORD-1", SubscriptionRules.ChangesOf(Details(lines: Line(otc: 0m))), new DateTimeOffset(2024, 1, 31, 9, 0, 0, TimeSpan.Zero));

        charges.Single().PeriodStart.Should().Be(new DateOnly(2024, 1, 31));
        charges.Single().PeriodEnd.Should().Be(new DateOnly(2024, 2, 28));
    }
}
