using System.Collections.Immutable;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;
using static O2X.Actors.Tests.TestData;

namespace O2X.Actors.Tests;

/// <summary>Bulk operations (seed §4.3) on one account's invoice of 149.00 USD (99.00 one-time + 50.00 first month).</summary>
public class AccountBulkRulesTests
{
    private const string Invoice = "INV-ACC-1-0001";
    private int _item;

    [Fact]
    public void Payments_reduce_what_is_owed_and_cannot_exceed_it()
    {
        var state = Apply(Invoiced(), Op(BulkApiName.AllocatePayment, Invoice, "PAY-1", 100.00m, "USD"));

        state.Outstanding(state.Invoices[0]).Should().Be(49.00m);
        Refusal(state, Op(BulkApiName.AllocatePayment, Invoice, "PAY-2", 49.01m, "USD")).Should().Be(ErrorCodes.AmountExceedsOutstanding);
        Refusal(state, Op(BulkApiName.AllocatePayment, Invoice, "PAY-2", 10m, "EUR")).Should().Be(ErrorCodes.CurrencyMismatch);
        Refusal(state, Op(BulkApiName.AllocatePayment, Invoice, "PAY-1", 1m, "USD")).Should().Be(ErrorCodes.DuplicateEntry);
        Refusal(state, Op(BulkApiName.AllocatePayment, "INV-ACC-1-0009", "PAY-3", 1m, "USD")).Should().Be(ErrorCodes.InvoiceNotFound);

        var paid = Apply(state, Op(BulkApiName.ProcessBankFile, Invoice, "BANK-77", 49.00m, "USD"));
        paid.Outstanding(paid.Invoices[0]).Should().Be(0m);
        paid.Balances().Should().Equal(new Balance("USD", 0m));
    }

    [Fact]
    public void An_unallocated_payment_is_a_credit_on_the_account()
    {
        var state = Apply(Invoiced(), Op(BulkApiName.AllocatePayment, null, "PAY-1", 200.00m, "USD"));

        state.Balances().Should().Equal(new Balance("USD", -51.00m));
        state.Outstanding(state.Invoices[0]).Should().Be(149.00m, "the payment was not allocated to the invoice");
    }

    [Fact]
    public void A_reversed_payment_no_longer_counts_and_cannot_be_reversed_twice()
    {
        var paid = Apply(Invoiced(), Op(BulkApiName.AllocatePayment, Invoice, "PAY-1", 100.00m, "USD"));
        var reversed = Apply(paid, Op(BulkApiName.ReversePayment, null, "PAY-1", reason: "cheque bounced"));

        reversed.Outstanding(reversed.Invoices[0]).Should().Be(149.00m);
        reversed.Ledger.Single().ReversalReason.Should().Be("cheque bounced");
        Refusal(reversed, Op(BulkApiName.ReversePayment, null, "PAY-1", reason: "again")).Should().Be(ErrorCodes.InvalidStateTransition);
        Refusal(reversed, Op(BulkApiName.ReversePayment, null, "PAY-404", reason: "x")).Should().Be(ErrorCodes.EntryNotFound);
        Refusal(reversed, Op(BulkApiName.ReverseAdjustment, null, "PAY-1", reason: "x")).Should().Be(ErrorCodes.EntryNotFound, "PAY-1 is a payment");
    }

    [Fact]
    public void Credit_and_debit_notes_move_the_invoice_and_get_numbered_per_account()
    {
        var state = Apply(Invoiced(), Op(BulkApiName.CreateCreditNote, Invoice, amount: 40.00m, reason: "goodwill"));
        state = Apply(state, Op(BulkApiName.CreateDebitNote, Invoice, amount: 15.50m, reason: "late fee"));
        state = Apply(state, Op(BulkApiName.CreateCreditNote, Invoice, amount: 24.50m, reason: "goodwill"));

        state.Ledger.Select(e => (e.EntryId, e.Amount)).Should().Equal(("CN-ACC-1-0001", -40.00m), ("DN-ACC-1-0001", 15.50m), ("CN-ACC-1-0002", -24.50m));
        state.Outstanding(state.Invoices[0]).Should().Be(100.00m); // 149 - 40 + 15.50 - 24.50
        Refusal(state, Op(BulkApiName.CreateCreditNote, Invoice, amount: 100.01m, reason: "too much")).Should().Be(ErrorCodes.AmountExceedsOutstanding);
        Refusal(state, Op(BulkApiName.CreateDebitNote, Invoice, currency: "EUR", amount: 1m, reason: "x")).Should().Be(ErrorCodes.CurrencyMismatch);
    }

    [Fact]
    public void Adjustments_move_the_balance_either_way_and_can_be_reversed()
    {
        var state = Apply(Invoiced(), Op(BulkApiName.CreateAdjustment, null, "ADJ-X", -20.00m, "USD", "outage credit"));
        state = Apply(state, Op(BulkApiName.CreateAdjustment, null, null, 5.25m, "USD", "fee"));
        state.Balances().Should().Equal(new Balance("USD", 134.25m));
        state.Ledger.Select(e => e.EntryId).Should().Equal("ADJ-X", "ADJ-ACC-1-0002");

        var reversed = Apply(state, Op(BulkApiName.ReverseAdjustment, null, "ADJ-X", reason: "credited twice"));
        reversed.Balances().Should().Equal(new Balance("USD", 154.25m));
    }

    [Fact]
    public void Cancelling_an_invoice_removes_it_from_the_balance_and_closes_it()
    {
        var state = Apply(Invoiced(), Op(BulkApiName.CancelInvoice, Invoice, reason: "wrong customer"));

        state.Invoices[0].Status.Should().Be(InvoiceStatus.Cancelled);
        state.Balances().Should().Equal(new Balance("USD", 0m));
        state.InvoiceHistory.Should().ContainSingle().Which.Should().Match<InvoiceAction>(a => a.Action == "CANCELLED" && a.Reason == "wrong customer");
        foreach (var api in new[] { BulkApiName.CancelInvoice, BulkApiName.RegenerateInvoice, BulkApiName.ResendInvoiceToVendor })
            Refusal(state, Op(api, Invoice, reason: "again")).Should().Be(ErrorCodes.InvalidStateTransition, api.ToString());
        Refusal(state, Op(BulkApiName.AllocatePayment, Invoice, "PAY-1", 1m, "USD")).Should().Be(ErrorCodes.InvalidStateTransition);
    }

    [Fact]
    public void An_invoice_with_payments_is_not_cancelled()
    {
        var paid = Apply(Invoiced(), Op(BulkApiName.AllocatePayment, Invoice, "PAY-1", 1m, "USD"));

        Refusal(paid, Op(BulkApiName.CancelInvoice, Invoice, reason: "x")).Should().Be(ErrorCodes.InvalidStateTransition);
    }

    [Fact]
    public void Regenerating_keeps_the_number_and_counts_revisions_resending_is_recorded()
    {
        var state = Apply(Invoiced(), Op(BulkApiName.RegenerateInvoice, Invoice, reason: "Tax calculation correction"));
        state = Apply(state, Op(BulkApiName.RegenerateInvoice, Invoice, reason: "again"));
        state = Apply(state, Op(BulkApiName.ResendInvoiceToVendor, Invoice, vendor: "PRINT-CO"));

        state.Invoices.Should().ContainSingle().Which.Should().Match<Invoice>(i => i.InvoiceNumber == Invoice && i.Revision == 2 && i.Total == 149.00m);
        state.InvoiceHistory.Select(a => (a.Action, a.Detail)).Should().Equal(("REGENERATED", "revision 1"), ("REGENERATED", "revision 2"), ("RESENT", "PRINT-CO"));
    }

    [Fact]
    public void The_same_item_again_is_a_duplicate_and_an_unknown_account_is_refused()
    {
        var command = Op(BulkApiName.CreateAdjustment, null, null, 1m, "USD", "x");
        var once = Apply(Invoiced(), command);

        AccountState.Decide(once, command).Reply.Should().Be(new CommandDone("ACC-1", WasDuplicate: true));
        AccountState.Decide(AccountState.Empty("ACC-9"), command with { AccountId = "ACC-9" }).Reply
            .Should().BeOfType<CommandRefused>().Which.ErrorCode.Should().Be(ErrorCodes.AccountNotFound);
    }

    private static AccountState Invoiced()
    {
        var changes = ImmutableArray.Create(new SubscriptionChange(OrderType.New, ServiceAction.Add, "INTERNET_100", 1, new Pricing(50m, 99m, "USD")));
        var charges = Billing.ChargesFor("ORD-1", changes, At);
        return AccountStateTests.Open()
            .Apply(new ChargesPosted("ACC-1", "m1", "ORD-1", charges, At))
            .Apply(new InvoiceIssued("ACC-1", "m2", Billing.InvoiceFor("ACC-1", 1, "ORD-1", charges, At), At));
    }

    private ApplyBulkOperation Op(BulkApiName api, string? invoice, string? entry = null, decimal? amount = null, string? currency = null,
        string? reason = "r", string? vendor = null) =>
        new("ACC-1", $"JOB-1#{_item++}", "JOB-1", new BulkOperation(api, invoice, entry, amount, currency, reason, vendor), At);

    private static AccountState Apply(AccountState state, ApplyBulkOperation command)
    {
        var decision = AccountState.Decide(state, command);
        decision.Reply.Should().BeOfType<CommandDone>($"{command.Operation.Api} should apply, but: {decision.Reply}");
        return decision.Events.Aggregate(state, (s, e) => s.Apply(e));
    }

    private static string Refusal(AccountState state, ApplyBulkOperation command) =>
        AccountState.Decide(state, command).Reply.Should().BeOfType<CommandRefused>().Subject.ErrorCode;
}
