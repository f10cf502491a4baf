using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;

namespace O2X.Actors.Tests;

public class OrderStateTests
{
    private static readonly DateTimeOffset At = new(2024, 2, 11, 10, 45, 0, TimeSpan.Zero);

    internal static OrderDetails Details(string? correlationId = "SF-ORD-1", string accountId = "ACC-1001") => new(
        accountId, "USR-501", OrderType.New,
        [new ServiceLine(ServiceAction.Add, "INTERNET_100", 1, new Pricing(50m, 99m, "USD"), null)],
        null, At, "Salesforce", correlationId);

    [Fact]
    public void Placing_a_new_order_records_it_as_received()
    {
        var state = OrderState.Empty("ORD-20240211-001");

        var decision = OrderState.Decide(state, new PlaceOrder("ORD-20240211-001", "m1", Details(), At));

        decision.Events.Should().ContainSingle().Which.Should().BeOfType<OrderReceived>();
        decision.Reply.Should().Be(new CommandDone("ORD-20240211-001", WasDuplicate: false));
        var after = decision.Events.Aggregate(state, (s, e) => s.Apply(e));
        after.Exists.Should().BeTrue();
        after.Status.Should().Be(OrderStatus.Received);
        after.Timeline.Should().Equal(new OrderTimelineEntry(OrderStatus.Received, At, "m1"));
        after.Processed.Contains("m1").Should().BeTrue();
    }

    [Fact]
    public void A_redelivered_message_is_answered_as_duplicate_without_events()
    {
        var state = Placed("m1", "SF-ORD-1");

        var decision = OrderState.Decide(state, new PlaceOrder(state.OrderId, "m1", Details(), At));

        decision.Events.Should().BeEmpty();
        decision.Reply.Should().Be(new CommandDone(state.OrderId, WasDuplicate: true));
    }

    [Fact]
    public void The_same_correlation_id_under_a_new_message_id_returns_the_original_result()
    {
        var state = Placed("m1", "SF-ORD-1");

        var decision = OrderState.Decide(state, new PlaceOrder(state.OrderId, "m2", Details("SF-ORD-1"), At));

        decision.Events.Should().BeEmpty();
        decision.Reply.Should().Be(new CommandDone(state.OrderId, WasDuplicate: true));
    }

    [Fact]
    public void A_different_order_under_an_existing_order_id_is_refused_as_duplicate_order()
    {
        var state = Placed("m1", "SF-ORD-1");

        var decision = OrderState.Decide(state, new PlaceOrder(state.OrderId, "m2", Details("SF-ORD-OTHER"), At));

        decision.Events.Should().BeEmpty();
        decision.Reply.Should().BeOfType<CommandRefused>().Which.ErrorCode.Should().Be(ErrorCodes.DuplicateOrder);
    }

    private static OrderState Placed(string messageId, string correlationId) =>
        OrderState.Empty("ORD-20240211-001").Apply(new OrderReceived("ORD-20240211-001", messageId, Details(correlationId), At));
}
