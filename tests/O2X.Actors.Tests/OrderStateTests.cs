using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;
using static O2X.Actors.Tests.TestData;

namespace O2X.Actors.Tests;

public class OrderStateTests
{
    private const string OrderId = "ORD-20240211-001";

    private static readonly ProvisioningOutcome.Completed Completed =
        new("PROV-12345", "Nokia", At.AddMinutes(45), null, "NOKIA-ACT-789456");

    private static readonly ProvisioningOutcome.Failed Failed =
        new("PROV-12346", "Nokia", At.AddMinutes(75), new VendorError("PORT_UNAVAILABLE", "No available ports on OLT-ZONE2-03", null), false);

    [Fact]
    public void Placing_a_new_order_records_it_and_requests_provisioning()
    {
        var decision = OrderState.Decide(OrderState.Empty(OrderId), new PlaceOrder(OrderId, Intake("m1"), Details()));

        decision.Events.Select(e => e.GetType()).Should().Equal(typeof(OrderReceived), typeof(ProvisioningRequested));
        decision.Reply.Should().Be(new CommandDone(OrderId, WasDuplicate: false));
        var after = Fold(OrderState.Empty(OrderId), decision.Events);
        after.Status.Should().Be(OrderStatus.Provisioning);
        after.ProvisioningRequestId.Should().Be("PRQ-" + OrderId);
        after.Timeline.Select(t => t.Status).Should().Equal(OrderStatus.Received, OrderStatus.Provisioning);
        after.Timeline.Should().OnlyContain(t => t.At == At);
    }

    [Fact]
    public void A_redelivered_message_is_answered_as_duplicate_without_events()
    {
        var state = Provisioning();

        var decision = OrderState.Decide(state, new PlaceOrder(OrderId, Intake("m1"), Details()));

        decision.Events.Should().BeEmpty();
        decision.Reply.Should().Be(new CommandDone(OrderId, WasDuplicate: true));
    }

    [Fact]
    public void The_same_correlation_id_under_a_new_message_id_is_recorded_and_returns_the_original()
    {
        var decision = OrderState.Decide(Provisioning(), new PlaceOrder(OrderId, Intake("m2"), Details("SF-ORD-1")));

        decision.Events.Should().ContainSingle().Which.Should().BeOfType<DuplicateOrderSubmitted>()
            .Which.StatusAtResubmission.Should().Be(OrderStatus.Provisioning);
        decision.Reply.Should().Be(new CommandDone(OrderId, WasDuplicate: true));
        Fold(Provisioning(), decision.Events).Status.Should().Be(OrderStatus.Provisioning, "a resubmission changes nothing");
    }

    [Fact]
    public void A_different_order_under_an_existing_order_id_is_refused_as_duplicate_order()
    {
        var decision = OrderState.Decide(Provisioning(), new PlaceOrder(OrderId, Intake("m2", "SF-ORD-OTHER"), Details("SF-ORD-OTHER")));

        Refusal(decision).Should().Be(ErrorCodes.DuplicateOrder);
    }

    [Fact]
    public void The_full_lifecycle_is_an_event_per_transition()
    {
        var state = Provisioning();
        state = Step(state, new CompleteProvisioning(OrderId, "cb1", Completed, At.AddHours(1)));
        state = Step(state, new MarkOrderBilled(OrderId, "cb1:billed", 149m, "USD", At.AddHours(1)));
        state = Step(state, new MarkOrderInvoiced(OrderId, "cb1:invoiced", "INV-ACC-1001-0001", At.AddHours(1)));

        state.Status.Should().Be(OrderStatus.Invoiced);
        state.Provisioning.Should().Be(Completed);
        state.BilledTotal.Should().Be(149m);
        state.InvoiceNumber.Should().Be("INV-ACC-1001-0001");
        state.Timeline.Select(t => t.Status).Should().Equal(
            OrderStatus.Received, OrderStatus.Provisioning, OrderStatus.Completed, OrderStatus.Billed, OrderStatus.Invoiced);
    }

    [Fact]
    public void A_failed_provisioning_keeps_the_vendor_error_and_retry_advice()
    {
        var state = Step(Provisioning(), new FailProvisioning(OrderId, "cb2", Failed with { RetryRecommended = true }, At));

        state.Status.Should().Be(OrderStatus.Failed);
        state.ProvisioningFailure!.Error.Code.Should().Be("PORT_UNAVAILABLE");
        state.ProvisioningFailure.RetryRecommended.Should().BeTrue();
    }

    [Fact]
    public void The_same_callback_resent_under_a_new_message_id_is_a_duplicate()
    {
        var completed = Step(Provisioning(), new CompleteProvisioning(OrderId, "cb1", Completed, At));

        var decision = OrderState.Decide(completed, new CompleteProvisioning(OrderId, "cb1-resent", Completed, At));

        decision.Events.Should().BeEmpty();
        decision.Reply.Should().Be(new CommandDone(OrderId, WasDuplicate: true));
    }

    public static TheoryData<string> ImpossibleTransitions => new()
    {
        "complete-after-fail", "fail-after-complete", "complete-other-provisioning", "bill-before-completion",
        "invoice-before-billing", "cancel-after-completion",
    };

    [Theory]
    [MemberData(nameof(ImpossibleTransitions))]
    public void Transitions_the_lifecycle_does_not_allow_are_refused(string which)
    {
        var completed = Step(Provisioning(), new CompleteProvisioning(OrderId, "cb1", Completed, At));
        var failed = Step(Provisioning(), new FailProvisioning(OrderId, "cb2", Failed, At));
        var (state, command) = which switch
        {
            "complete-after-fail" => (failed, (IOrderCommand)new CompleteProvisioning(OrderId, "x", Completed, At)),
            "fail-after-complete" => (completed, new FailProvisioning(OrderId, "x", Failed, At)),
            "complete-other-provisioning" => (completed, new CompleteProvisioning(OrderId, "x", Completed with { ProvisioningId = "PROV-OTHER" }, At)),
            "bill-before-completion" => (Provisioning(), new MarkOrderBilled(OrderId, "x", 1m, "USD", At)),
            "invoice-before-billing" => (completed, new MarkOrderInvoiced(OrderId, "x", "INV-1", At)),
            "cancel-after-completion" => (completed, new CancelOrder(OrderId, Intake("x"))),
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };

        Refusal(OrderState.Decide(state, command)).Should().Be(ErrorCodes.InvalidStateTransition);
    }

    [Fact]
    public void An_order_awaiting_provisioning_can_be_cancelled()
    {
        var state = Step(Provisioning(), new CancelOrder(OrderId, Intake("cancel-1")));

        state.Status.Should().Be(OrderStatus.Cancelled);
        state.Timeline[^1].Status.Should().Be(OrderStatus.Cancelled);
    }

    [Fact]
    public void Commands_for_an_unknown_order_are_refused_with_order_not_found()
    {
        Refusal(OrderState.Decide(OrderState.Empty("ORD-X"), new CompleteProvisioning("ORD-X", "cb", Completed, At)))
            .Should().Be(ErrorCodes.OrderNotFound);
    }

    internal static OrderState Provisioning() =>
        Fold(OrderState.Empty(OrderId), OrderState.Decide(OrderState.Empty(OrderId), new PlaceOrder(OrderId, Intake("m1"), Details())).Events);

    private static OrderState Step(OrderState state, IOrderCommand command)
    {
        var decision = OrderState.Decide(state, command);
        decision.Reply.Should().BeOfType<CommandDone>();
        return Fold(state, decision.Events);
    }

    private static OrderState Fold(OrderState state, ImmutableArray<IOrderEvent> events) => events.Aggregate(state, (s, e) => s.Apply(e));

    private static string Refusal(Decision<IOrderEvent> decision)
    {
        decision.Events.Should().BeEmpty();
        return decision.Reply.Should().BeOfType<CommandRefused>().Which.ErrorCode;
    }
}
