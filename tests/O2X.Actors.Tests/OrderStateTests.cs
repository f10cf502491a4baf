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
        "invoice-before-billing", "cancel-after-failure",
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
            "cancel-after-failure" => (failed, new CancelOrder(OrderId, Intake("x"))),
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

    [Fact]
    public void An_order_can_be_cancelled_after_it_completed_and_is_failed_when_the_network_takes_its_completion_back()
    {
        var invoiced = Step(Step(Step(Provisioning(), new CompleteProvisioning(OrderId, "cb1", Completed, At)),
            new MarkOrderBilled(OrderId, "cb1:billed", 149m, "USD", At)), new MarkOrderInvoiced(OrderId, "cb1:invoiced", "INV-1", At));

        var cancelled = OrderState.Decide(invoiced, new CancelOrder(OrderId, Intake("cancel-1")));
        cancelled.Events.Should().ContainSingle().Which.Should().BeOfType<OrderCancelled>().Which.CancelledFrom.Should().Be(OrderStatus.Invoiced);
        var failed = Step(invoiced, new FailProvisioning(OrderId, "cb2", Failed with { ProvisioningId = Completed.ProvisioningId }, At.AddDays(1)));
        failed.Status.Should().Be(OrderStatus.Failed);
        // The original COMPLETED callback redelivered afterwards is a repeat, not a new completion.
        var resent = OrderState.Decide(failed, new CompleteProvisioning(OrderId, "cb1-again", Completed, At));
        resent.Events.Should().BeEmpty();
        resent.Reply.Should().Be(new CommandDone(OrderId, WasDuplicate: true));
    }

    // ---- STUCK provisioning (issue 18: money stays right on every path) ------------------------------------------------

    private static readonly TimeSpan Timeout = TimeSpan.FromHours(4);

    private static OrderState Stuck() =>
        Step(Provisioning(), new FlagProvisioningStuck(OrderId, "stuck:PRQ-" + OrderId, "PRQ-" + OrderId, Timeout, At.AddHours(5)));

    [Fact]
    public void An_unanswered_request_is_flagged_stuck_once_and_only_while_it_is_the_outstanding_one()
    {
        var stuck = Stuck();
        stuck.Status.Should().Be(OrderStatus.Stuck);
        stuck.Timeline[^1].Note.Should().Be($"no answer to PRQ-{OrderId} within {Timeout}");

        // The watchdog flags the same request again after a crash between the flag and its own record of it.
        var again = OrderState.Decide(stuck, new FlagProvisioningStuck(OrderId, "stuck:PRQ-" + OrderId, "PRQ-" + OrderId, Timeout, At.AddHours(6)));
        again.Events.Should().BeEmpty();
        again.Reply.Should().Be(new CommandDone(OrderId, WasDuplicate: true));
        Refusal(OrderState.Decide(Provisioning(), new FlagProvisioningStuck(OrderId, "stuck:PRQ-OLD", "PRQ-OLD", Timeout, At.AddHours(5))))
            .Should().Be(ErrorCodes.InvalidStateTransition, "an older request than the outstanding one");
        var completed = Step(Provisioning(), new CompleteProvisioning(OrderId, "cb", Completed, At.AddMinutes(45)));
        Refusal(OrderState.Decide(completed, new FlagProvisioningStuck(OrderId, "stuck:PRQ-" + OrderId, "PRQ-" + OrderId, Timeout, At.AddHours(5))))
            .Should().Be(ErrorCodes.InvalidStateTransition, "the network answered before the watchdog looked");
    }

    [Fact]
    public void A_retry_sends_a_new_request_under_a_new_id_and_can_go_stuck_again()
    {
        var retried = Step(Stuck(), new RetryProvisioning(OrderId, "op-1", "operator at 127.0.0.1", At.AddHours(6)));

        retried.Status.Should().Be(OrderStatus.Provisioning);
        retried.ProvisioningRequestId.Should().Be($"PRQ-{OrderId}-R1");
        var again = Step(retried, new FlagProvisioningStuck(OrderId, $"stuck:PRQ-{OrderId}-R1", $"PRQ-{OrderId}-R1", Timeout, At.AddHours(11)));
        Step(again, new RetryProvisioning(OrderId, "op-2", "operator", At.AddHours(12))).ProvisioningRequestId.Should().Be($"PRQ-{OrderId}-R2");
        Refusal(OrderState.Decide(retried, new RetryProvisioning(OrderId, "op-3", "operator", At.AddHours(6))))
            .Should().Be(ErrorCodes.InvalidStateTransition, "only a STUCK order is retried");
    }

    [Fact]
    public void A_late_callback_while_stuck_is_taken_as_in_provisioning()
    {
        Step(Stuck(), new CompleteProvisioning(OrderId, "cb", Completed, At.AddHours(7))).Status.Should().Be(OrderStatus.Completed);
        Step(Stuck(), new FailProvisioning(OrderId, "cb", Failed, At.AddHours(7))).Status.Should().Be(OrderStatus.Failed);
        Step(Stuck(), new CancelOrder(OrderId, Intake("cancel"))).Status.Should().Be(OrderStatus.Cancelled);
    }

    [Fact]
    public void An_operator_fails_a_stuck_order_and_a_late_completion_is_refused_for_reconciliation()
    {
        var failed = Step(Stuck(), new AbandonProvisioning(OrderId, "op-1", "operator at 10.0.0.5", "vendor ticket 4711 closed", At.AddHours(6)));

        failed.Status.Should().Be(OrderStatus.Failed);
        failed.ProvisioningFailure!.Error.Code.Should().Be(ErrorCodes.ProvisioningTimeout);
        failed.ProvisioningFailure.Error.Message.Should().Be("Failed by operator at 10.0.0.5: vendor ticket 4711 closed");
        failed.ProvisioningFailure.ProvisioningId.Should().Be("PRQ-" + OrderId);
        OrderState.Decide(failed, new AbandonProvisioning(OrderId, "op-2", "operator", "again", At.AddHours(6))).Events
            .Should().BeEmpty("failing it twice records nothing twice");
        Refusal(OrderState.Decide(failed, new CompleteProvisioning(OrderId, "late", Completed, At.AddHours(8))))
            .Should().Be(ErrorCodes.LateProvisioningCallback);
        var lateFailure = OrderState.Decide(failed, new FailProvisioning(OrderId, "late", Failed, At.AddHours(8)));
        lateFailure.Events.Should().BeEmpty();
        lateFailure.Reply.Should().Be(new CommandDone(OrderId, WasDuplicate: true), "failed either way");
        Refusal(OrderState.Decide(Provisioning(), new AbandonProvisioning(OrderId, "op-3", "operator", "why", At)))
            .Should().Be(ErrorCodes.InvalidStateTransition, "an operator fails only a STUCK order; the network may still answer a PROVISIONING one");
    }

    [Fact]
    public void Watch_changes_follow_the_order_events()
    {
        var requested = (ProvisioningRequested)OrderState.Decide(OrderState.Empty(OrderId), new PlaceOrder(OrderId, Intake("m1"), Details())).Events[1];
        ProvisioningWatchChange.Of(requested).Should().Be(new ProvisioningWatchChange.Watch(OrderId, "ACC-1001", "PRQ-" + OrderId, At));
        ProvisioningWatchChange.Of(new ProvisioningCompleted(OrderId, "cb", Completed, At)).Should().Be(new ProvisioningWatchChange.Unwatch(OrderId));
        ProvisioningWatchChange.Of(new ProvisioningFailed(OrderId, "cb", Failed, At)).Should().Be(new ProvisioningWatchChange.Unwatch(OrderId));
        ProvisioningWatchChange.Of(new OrderCancelled(OrderId, Intake("c"), OrderStatus.Stuck, At)).Should().Be(new ProvisioningWatchChange.Unwatch(OrderId));
        ProvisioningWatchChange.Of(new ProvisioningStuck(OrderId, "s", "PRQ-" + OrderId, Timeout, At)).Should().BeNull();
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
