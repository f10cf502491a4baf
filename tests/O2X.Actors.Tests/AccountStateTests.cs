using System.Collections.Immutable;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;
using static O2X.Actors.Tests.TestData;

namespace O2X.Actors.Tests;

public class AccountStateTests
{
    private static readonly DateTimeOffset Completion = new(2024, 2, 11, 11, 30, 0, TimeSpan.Zero);

    [Fact]
    public void A_new_order_opens_an_unknown_account_once_and_records_its_changes()
    {
        var state = AccountState.Empty("ACC-1");

        var first = AccountState.Decide(state, new PrepareOrder("ACC-1", "m1", "ORD-1", true, Changes(Line()), At));
        var opened = Fold(state, first.Events);
        var second = AccountState.Decide(opened, new PrepareOrder("ACC-1", "m2", "ORD-2", true, Changes(Line()), At.AddMinutes(1)));

        first.Events.Select(e => e.GetType()).Should().Equal(typeof(AccountOpened), typeof(SubscriptionChangesRequested));
        opened.IsOpen.Should().BeTrue();
        opened.PendingChanges.Keys.Should().Equal("ORD-1");
        second.Events.Should().ContainSingle("an open account is not opened again").Which.Should().BeOfType<SubscriptionChangesRequested>();
    }

    [Fact]
    public void An_order_that_may_not_open_the_account_is_refused_for_an_unknown_account()
    {
        var decision = AccountState.Decide(AccountState.Empty("ACC-9"), new PrepareOrder("ACC-9", "m1", "ORD-1", false, Changes(Line()), At));

        decision.Reply.Should().BeOfType<CommandRefused>().Which.ErrorCode.Should().Be(ErrorCodes.AccountNotFound);
    }

    [Fact]
    public void Preparing_the_same_order_again_is_a_duplicate()
    {
        var state = Requested(Open(), "ORD-1", Changes(Line()));

        AccountState.Decide(state, new PrepareOrder("ACC-1", "m2", "ORD-1", true, Changes(Line()), At)).Reply
            .Should().Be(new CommandDone("ACC-1", WasDuplicate: true));
    }

    [Fact]
    public void Commands_for_an_unknown_account_are_refused_with_account_not_found()
    {
        var decision = AccountState.Decide(AccountState.Empty("ACC-404"), new UpdateAccount("ACC-404", Intake("m1"), null, null));

        decision.Reply.Should().BeOfType<CommandRefused>().Which.ErrorCode.Should().Be(ErrorCodes.AccountNotFound);
    }

    [Fact]
    public void An_update_changes_only_what_it_carries()
    {
        var address = new PostalAddress("789 New Street", "Guadalajara", "Jalisco", "44100", null);
        var payment = new PaymentMethod("CREDIT_CARD", "tok_visa_1234", true);
        var state = Open().Apply(new AccountUpdated("ACC-1", Intake("m1"), address, payment, At));

        var after = Fold(state, AccountState.Decide(state, new UpdateAccount("ACC-1", Intake("m2"), null, payment with { Token = "tok_new" })).Events);

        after.BillingAddress.Should().Be(address);
        after.PaymentMethod!.Token.Should().Be("tok_new");
    }

    [Fact]
    public void A_completed_new_order_activates_its_subscription_and_posts_one_time_and_first_recurring_charges()
    {
        var state = Requested(Open(), "ORD-1", Changes(Line(quantity: 2)));

        var decision = AccountState.Decide(state, new ApplyCompletedOrder("ACC-1", "cb1", "ORD-1", [], Completion));
        var after = Fold(state, decision.Events);

        after.Subscriptions.Should().ContainSingle().Which.Should().BeEquivalentTo(new
        {
            ProductCode = "INTERNET_100", Quantity = 2, MonthlyRecurringCharge = 50m, Status = SubscriptionStatus.Active, Since = Completion,
        });
        after.Charges.Select(c => (c.Kind, c.Amount)).Should().Equal((ChargeKind.OneTime, 198m), (ChargeKind.Recurring, 100m));
        after.Charges[1].PeriodStart.Should().Be(new DateOnly(2024, 2, 11));
        after.Charges[1].PeriodEnd.Should().Be(new DateOnly(2024, 3, 10));
        after.PendingChanges.Should().BeEmpty();
        after.ToView().Balances.Should().Equal(new Balance("USD", 298m));
    }

    [Fact]
    public void Completing_the_same_order_twice_charges_once()
    {
        var state = Requested(Open(), "ORD-1", Changes(Line()));
        var once = Fold(state, AccountState.Decide(state, new ApplyCompletedOrder("ACC-1", "cb1", "ORD-1", [], Completion)).Events);

        var again = AccountState.Decide(once, new ApplyCompletedOrder("ACC-1", "cb1-resent", "ORD-1", [], Completion));

        again.Events.Should().BeEmpty();
        again.Reply.Should().Be(new CommandDone("ACC-1", WasDuplicate: true));
    }

    [Fact]
    public void A_completed_order_whose_request_was_never_recorded_still_applies_from_the_order()
    {
        var decision = AccountState.Decide(Open(), new ApplyCompletedOrder("ACC-1", "cb1", "ORD-1", Changes(Line()), Completion));

        Fold(Open(), decision.Events).Charges.Should().HaveCount(2);
    }

    [Fact]
    public void The_invoice_lists_the_orders_charges_with_totals_and_a_net_30_due_date()
    {
        var state = Completed(Open(), "ORD-1", Changes(Line()));

        var decision = AccountState.Decide(state, new IssueOrderInvoice("ACC-1", "cb1:invoice", "ORD-1", Completion));
        var invoice = decision.Events.Should().ContainSingle().Which.Should().BeOfType<InvoiceIssued>().Which.Invoice;

        invoice.InvoiceNumber.Should().Be("INV-ACC-1-0001");
        invoice.Lines.Select(l => l.Amount).Should().Equal(99m, 50m);
        invoice.Subtotal.Should().Be(149m);
        invoice.Tax.Should().Be(0m);
        invoice.Total.Should().Be(149m);
        invoice.Currency.Should().Be("USD");
        invoice.DueDate.Should().Be(new DateOnly(2024, 3, 12));
        var after = Fold(state, decision.Events);
        after.FindInvoice("1").Should().Be(invoice);
        after.FindInvoice("INV-ACC-1-0001").Should().Be(invoice);
        AccountState.Decide(after, new IssueOrderInvoice("ACC-1", "again", "ORD-1", Completion)).Events.Should().BeEmpty("one invoice per order");
    }

    [Fact]
    public void A_failed_order_abandons_its_pending_changes_without_charges()
    {
        var state = Requested(Open(), "ORD-2", Changes(Line()));

        var after = Fold(state, AccountState.Decide(state, new AbandonOrderChanges("ACC-1", "cb2", "ORD-2", "FAILED: PORT_UNAVAILABLE", At)).Events);

        after.PendingChanges.Should().BeEmpty();
        after.Charges.Should().BeEmpty();
        after.Subscriptions.Should().BeEmpty();
    }

    [Fact]
    public void Removing_a_product_the_account_does_not_have_is_an_invalid_product()
    {
        var decision = AccountState.Decide(Open(), new PrepareOrder("ACC-1", "m9", "ORD-9", false,
            Changes(Line(ServiceAction.Remove), OrderType.Modify), At));

        decision.Reply.Should().BeOfType<CommandRefused>().Which.ErrorCode.Should().Be(ErrorCodes.InvalidProduct);
    }

    [Fact]
    public void An_account_whose_stored_charges_would_overflow_still_reads_with_saturated_balances()
    {
        // Written before amounts had bounds: two charges of 5e28 (the sum exceeds decimal's range).
        Charge Huge(string id) => new(id, "ORD-1", ChargeKind.Recurring, "INTERNET_100", 1, 5e28m, 5e28m, "USD", null, null, At);
        var state = Open().Apply(new ChargesPosted("ACC-1", "m1", "ORD-1", [Huge("C1"), Huge("C2")], At));
        var invoice = Billing.InvoiceFor("ACC-1", 1, "ORD-1", state.ChargesOf("ORD-1").Charges, At);
        state = state.Apply(new InvoiceIssued("ACC-1", "m2", invoice, At));

        var balances = state.Balances();
        var view = state.ToView();

        balances.Should().ContainSingle().Which.Should().Be(new Balance("USD", decimal.MaxValue));
        invoice.Total.Should().Be(decimal.MaxValue);
        state.Outstanding(invoice).Should().Be(decimal.MaxValue);
        view.Should().NotBeNull();
    }

    [Fact]
    public void A_charge_that_cannot_be_computed_is_refused_not_retried()
    {
        var changes = SubscriptionRules.ChangesOf(Details(lines: Line(quantity: 1_000_000, mrc: decimal.MaxValue, otc: 0m)));

        FluentActions.Invoking(() => Billing.ChargesFor("ORD-1", changes, At)).Should().Throw<O2X.Actors.Messaging.NonRetryableException>()
            .Which.ErrorCode.Should().Be(ErrorCodes.InvalidField);
    }

    // ---- saga compensation: an order cancelled or failed after it completed (issue 18) ---------------------------------

    [Fact]
    public void An_invoiced_order_cancelled_afterwards_ends_its_subscription_and_is_credited_in_full_once()
    {
        var completed = Completed(Open(), "ORD-1", Changes(Line()));
        var invoiced = Fold(completed, AccountState.Decide(completed, new IssueOrderInvoice("ACC-1", "cb1:invoice", "ORD-1", Completion)).Events);
        var cancelledAt = Completion.AddDays(5);

        var decision = AccountState.Decide(invoiced, new AbandonOrderChanges("ACC-1", "cancel-1", "ORD-1", "CANCELLED", cancelledAt));
        var after = Fold(invoiced, decision.Events);

        var compensated = decision.Events.Should().ContainSingle().Which.Should().BeOfType<OrderCompensated>().Subject;
        compensated.CreditNote.Should().Be(new LedgerEntry("CN-ORD-1", LedgerEntryKind.CreditNote, "INV-ACC-1-0001", -149m, "USD",
            "Order ORD-1 CANCELLED: its charges credited", null, cancelledAt));
        after.Subscriptions.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Status = SubscriptionStatus.Removed, Since = cancelledAt });
        after.SubscriptionHistory.Select(s => s.Status).Should().Equal(SubscriptionStatus.Active, SubscriptionStatus.Removed);
        after.ToView().Balances.Should().Equal(new Balance("USD", 0m));
        after.Outstanding(after.Invoices[0]).Should().Be(0m);

        var again = AccountState.Decide(after, new AbandonOrderChanges("ACC-1", "fail-1", "ORD-1", "FAILED: X", cancelledAt.AddDays(1)));
        again.Events.Should().BeEmpty("an order is compensated once, whichever of cancel and failure comes second");
        again.Reply.Should().Be(new CommandDone("ACC-1", WasDuplicate: true));
    }

    [Fact]
    public void A_completion_arriving_after_the_order_was_closed_charges_nothing()
    {
        var requested = Requested(Open(), "ORD-1", Changes(Line()));
        var abandoned = Fold(requested, AccountState.Decide(requested, new AbandonOrderChanges("ACC-1", "cancel-1", "ORD-1", "CANCELLED", Completion)).Events);

        // The callback's handler had the order COMPLETED before the cancel overtook it; its fallback changes must not apply now.
        var late = AccountState.Decide(abandoned, new ApplyCompletedOrder("ACC-1", "cb1", "ORD-1", Changes(Line()), Completion));

        late.Events.Should().BeEmpty();
        abandoned.Charges.Should().BeEmpty();
        abandoned.Subscriptions.Should().BeEmpty();
    }

    [Fact]
    public void An_order_without_charges_cancelled_after_completion_ends_its_subscription_without_a_credit_note()
    {
        var completed = Completed(Open(), "ORD-1", Changes(Line(mrc: 0m, otc: 0m)));

        var decision = AccountState.Decide(completed, new AbandonOrderChanges("ACC-1", "cancel-1", "ORD-1", "CANCELLED", Completion.AddDays(1)));

        var compensated = decision.Events.Should().ContainSingle().Which.Should().BeOfType<OrderCompensated>().Subject;
        compensated.CreditNote.Should().BeNull();
        compensated.Ended.Should().ContainSingle().Which.Status.Should().Be(SubscriptionStatus.Removed);
    }

    internal static AccountState Open() => AccountState.Empty("ACC-1").Apply(new AccountOpened("ACC-1", "m0", null, At));

    private static ImmutableArray<SubscriptionChange> Changes(ServiceLine line, OrderType type = OrderType.New) =>
        SubscriptionRules.ChangesOf(Details(type: type, lines: line));

    private static AccountState Requested(AccountState state, string orderId, ImmutableArray<SubscriptionChange> changes) =>
        Fold(state, AccountState.Decide(state, new PrepareOrder(state.AccountId, "req-" + orderId, orderId, false, changes, At)).Events);

    private static AccountState Completed(AccountState state, string orderId, ImmutableArray<SubscriptionChange> changes)
    {
        var requested = Requested(state, orderId, changes);
        return Fold(requested, AccountState.Decide(requested, new ApplyCompletedOrder(state.AccountId, "done-" + orderId, orderId, [], Completion)).Events);
    }

    private static AccountState Fold(AccountState state, ImmutableArray<IAccountEvent> events) => events.Aggregate(state, (s, e) => s.Apply(e));
}
