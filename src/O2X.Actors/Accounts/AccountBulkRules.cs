using System.Collections.Immutable;
using O2X.Actors.Messaging;

namespace O2X.Actors.Accounts;

/// <summary>
/// How a bulk item (seed §4.3) acts on one account's invoices and ledger. Pure; refusals carry the reason the bulk
/// job reports for the item. Entry ids the request does not give are numbered per account and kind
/// (<c>CN-{account}-0001</c>, <c>DN-…</c>, <c>ADJ-…</c>).
/// </summary>
internal static class AccountBulkRules
{
    public static Decision<IAccountEvent> Decide(AccountState state, ApplyBulkOperation command)
    {
        var op = command.Operation;
        var at = command.At;
        return op.Api switch
        {
            BulkApiName.ResendInvoiceToVendor => WithOpenInvoice(state, op, invoice =>
                Persist(state, new InvoiceResent(state.AccountId, command.MessageId, invoice.InvoiceNumber, op.Vendor, op.Reason, command.JobId, at))),
            BulkApiName.RegenerateInvoice => WithOpenInvoice(state, op, invoice =>
            {
                // A cycle's invoice is what its run computed (usage is billed once): a new revision of the same lines.
                if (invoice.IsCycleInvoice)
                    return Persist(state, new InvoiceRegenerated(state.AccountId, command.MessageId, invoice with { Revision = invoice.Revision + 1 },
                        op.Reason, command.JobId, at));
                var charges = state.Charges.Where(c => c.OrderId == invoice.OrderId).ToImmutableArray();
                var again = Billing.InvoiceFor(state.AccountId, invoice.Sequence, invoice.OrderId, charges, invoice.IssuedAt) with
                {
                    Revision = invoice.Revision + 1,
                };
                return Persist(state, new InvoiceRegenerated(state.AccountId, command.MessageId, again, op.Reason, command.JobId, at));
            }),
            BulkApiName.CancelInvoice => WithOpenInvoice(state, op, invoice =>
                state.Ledger.Any(e => e.Counts && e.Kind == LedgerEntryKind.Payment && e.InvoiceNumber == invoice.InvoiceNumber)
                    ? Refuse(state, ErrorCodes.InvalidStateTransition,
                        $"Invoice {invoice.InvoiceNumber} has payments allocated to it; reverse them before cancelling it.")
                    : Persist(state, new InvoiceCancelled(state.AccountId, command.MessageId, invoice.InvoiceNumber, op.Reason ?? "", command.JobId, at))),
            BulkApiName.AllocatePayment or BulkApiName.ProcessBankFile => DecidePayment(state, command),
            BulkApiName.ReversePayment => Reverse(state, command, LedgerEntryKind.Payment),
            BulkApiName.CreateCreditNote => DecideNote(state, command, LedgerEntryKind.CreditNote, "CN"),
            BulkApiName.CreateDebitNote => DecideNote(state, command, LedgerEntryKind.DebitNote, "DN"),
            BulkApiName.CreateAdjustment => Post(state, command, new LedgerEntry(
                op.EntryId ?? NextId(state, LedgerEntryKind.Adjustment, "ADJ"), LedgerEntryKind.Adjustment, null, op.Amount!.Value, op.Currency!, op.Reason,
                command.JobId, at)),
            BulkApiName.ReverseAdjustment => Reverse(state, command, LedgerEntryKind.Adjustment),
            _ => throw new ArgumentOutOfRangeException(nameof(command), op.Api, "unknown bulk operation"),
        };
    }

    private static Decision<IAccountEvent> DecidePayment(AccountState state, ApplyBulkOperation command)
    {
        var op = command.Operation;
        var payment = new LedgerEntry(op.EntryId!, LedgerEntryKind.Payment, op.InvoiceNumber, -op.Amount!.Value, op.Currency!, op.Reason, command.JobId,
            command.At);
        if (op.InvoiceNumber is null) return Post(state, command, payment); // unallocated: a credit on the account
        return WithOpenInvoice(state, op, invoice =>
            invoice.Currency != op.Currency
                ? Refuse(state, ErrorCodes.CurrencyMismatch, $"Invoice {invoice.InvoiceNumber} is in {invoice.Currency}, the payment in {op.Currency}.")
                : op.Amount > state.Outstanding(invoice)
                    ? Refuse(state, ErrorCodes.AmountExceedsOutstanding,
                        $"Payment {op.Amount} {op.Currency} is more than the {state.Outstanding(invoice)} still owed on invoice {invoice.InvoiceNumber}.")
                    : Post(state, command, payment with { InvoiceNumber = invoice.InvoiceNumber }));
    }

    private static Decision<IAccountEvent> DecideNote(AccountState state, ApplyBulkOperation command, LedgerEntryKind kind, string prefix)
    {
        var op = command.Operation;
        return WithOpenInvoice(state, op, invoice =>
        {
            if (op.Currency is { } currency && currency != invoice.Currency)
                return Refuse(state, ErrorCodes.CurrencyMismatch, $"Invoice {invoice.InvoiceNumber} is in {invoice.Currency}, the note in {currency}.");
            var amount = op.Amount!.Value;
            if (kind == LedgerEntryKind.CreditNote && amount > state.Outstanding(invoice))
                return Refuse(state, ErrorCodes.AmountExceedsOutstanding,
                    $"Credit note of {amount} {invoice.Currency} is more than the {state.Outstanding(invoice)} still owed on invoice {invoice.InvoiceNumber}.");
            return Post(state, command, new LedgerEntry(op.EntryId ?? NextId(state, kind, prefix), kind, invoice.InvoiceNumber,
                kind == LedgerEntryKind.CreditNote ? -amount : amount, invoice.Currency, op.Reason, command.JobId, command.At));
        });
    }

    private static Decision<IAccountEvent> Post(AccountState state, ApplyBulkOperation command, LedgerEntry entry) =>
        state.Ledger.Any(e => e.EntryId == entry.EntryId)
            ? Refuse(state, ErrorCodes.DuplicateEntry, $"Account {state.AccountId} already has an entry {entry.EntryId}.")
            : Persist(state, new LedgerEntryPosted(state.AccountId, command.MessageId, entry, command.At));

    private static Decision<IAccountEvent> Reverse(AccountState state, ApplyBulkOperation command, LedgerEntryKind kind)
    {
        var id = command.Operation.EntryId!;
        var entry = state.Ledger.FirstOrDefault(e => e.EntryId == id && e.Kind == kind);
        if (entry is null) return Refuse(state, ErrorCodes.EntryNotFound, $"Account {state.AccountId} has no {Describe(kind)} {id}.");
        if (!entry.Counts)
            return Refuse(state, ErrorCodes.InvalidStateTransition, $"{Describe(kind)} {id} was already reversed at {entry.ReversedAt:O}.");
        return Persist(state, new LedgerEntryReversed(state.AccountId, command.MessageId, id, command.Operation.Reason ?? "", command.At));
    }

    private static Decision<IAccountEvent> WithOpenInvoice(AccountState state, BulkOperation op, Func<Invoice, Decision<IAccountEvent>> then)
    {
        var invoice = state.Invoices.FirstOrDefault(i => i.InvoiceNumber == op.InvoiceNumber);
        if (invoice is null) return Refuse(state, ErrorCodes.InvoiceNotFound, $"Account {state.AccountId} has no invoice {op.InvoiceNumber}.");
        return invoice.Status == InvoiceStatus.Cancelled
            ? Refuse(state, ErrorCodes.InvalidStateTransition, $"Invoice {invoice.InvoiceNumber} is cancelled.")
            : then(invoice);
    }

    private static string NextId(AccountState state, LedgerEntryKind kind, string prefix) =>
        $"{prefix}-{state.AccountId}-{state.Ledger.Count(e => e.Kind == kind) + 1:0000}";

    private static string Describe(LedgerEntryKind kind) => kind switch
    {
        LedgerEntryKind.Payment => "payment",
        LedgerEntryKind.Adjustment => "adjustment",
        LedgerEntryKind.CreditNote => "credit note",
        _ => "debit note",
    };

    private static Decision<IAccountEvent> Persist(AccountState state, IAccountEvent @event) =>
        Decision<IAccountEvent>.Persist(AccountState.Done(state), @event);

    private static Decision<IAccountEvent> Refuse(AccountState state, string code, string message) =>
        Decision<IAccountEvent>.Refuse(state.AccountId, code, message);
}
