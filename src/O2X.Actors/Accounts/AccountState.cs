using System.Collections.Immutable;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;

namespace O2X.Actors.Accounts;

/// <summary>
/// The state of one account — contact details, subscriptions, charges, invoices — with the pure
/// <see cref="Decide"/> and <see cref="Apply"/> that the <see cref="AccountActor"/> drives. Also the
/// snapshot format. Order-driven commands are idempotent per order id, so a redelivered callback can
/// never charge or invoice twice.
/// </summary>
internal sealed record AccountState(
    string AccountId,
    bool IsOpen,
    DateTimeOffset OpenedAt,
    PostalAddress? BillingAddress,
    PaymentMethod? PaymentMethod,
    DateTimeOffset UpdatedAt,
    ImmutableArray<Subscription> Subscriptions,
    ImmutableDictionary<string, ImmutableArray<SubscriptionChange>> PendingChanges,
    ImmutableHashSet<string> CompletedOrders,
    ImmutableArray<Charge> Charges,
    ImmutableArray<Invoice> Invoices,
    MessageIdWindow Processed,
    ImmutableArray<LedgerEntry> Ledger = default,
    ImmutableArray<InvoiceAction> InvoiceHistory = default,
    int CycleDay = 0,
    BillingContact? Contact = null,
    ImmutableArray<Discount> Discounts = default,
    ImmutableArray<Subscription> SubscriptionHistory = default,
    ImmutableHashSet<string>? ClosedOrders = null) : IO2XMessage
{
    /// <summary>
    /// Orders cancelled or failed on the account (their pending changes dropped, or compensated after completing): a completion
    /// arriving for one afterwards changes nothing, so nothing is charged after it was credited.
    /// </summary>
    public ImmutableHashSet<string> ClosedOrders { get; init; } = ClosedOrders ?? [];

    /// <summary>The day of the month the account's billing cycle starts on (1–28); 1, a calendar month, unless ACCOUNT UPDATE set it.</summary>
    public const int DefaultCycleDay = 1;

    public int CycleDay { get; init; } = CycleDay is >= 1 and <= 28 ? CycleDay : DefaultCycleDay;

    public ImmutableArray<Discount> Discounts { get; init; } = Discounts.IsDefault ? [] : Discounts;

    /// <summary>
    /// Every state each subscription reached, in order (what the bill run prorates from). Snapshots taken before it existed
    /// start it with the subscriptions as they were then.
    /// </summary>
    public ImmutableArray<Subscription> SubscriptionHistory { get; init; } = SubscriptionHistory.IsDefault ? Subscriptions : SubscriptionHistory;

    // Snapshots taken before bulk operations existed have neither list.
    public ImmutableArray<LedgerEntry> Ledger { get; init; } = Ledger.IsDefault ? [] : Ledger;

    public ImmutableArray<InvoiceAction> InvoiceHistory { get; init; } = InvoiceHistory.IsDefault ? [] : InvoiceHistory;

    public static AccountState Empty(string accountId) =>
        new(accountId, false, default, null, null, default, [], ImmutableDictionary<string, ImmutableArray<SubscriptionChange>>.Empty,
            [], [], [], MessageIdWindow.Empty, [], [], DefaultCycleDay, null, [], []);

    public AccountView ToView() => new(AccountId, OpenedAt, BillingAddress, PaymentMethod, UpdatedAt, Subscriptions, PendingChanges, Charges,
        Balances(),
        [.. Invoices.Select(i => new InvoiceSummary(i.InvoiceNumber, i.Sequence, i.OrderId, i.IssuedAt, i.DueDate, i.Currency, i.Total, i.Status,
            i.Revision, Outstanding(i), i.Cycle?.Period))],
        Ledger, InvoiceHistory, CycleDay, Contact, Discounts);

    /// <summary>
    /// What the customer owes per currency: every charge, less the totals of cancelled invoices, plus every ledger
    /// entry that still counts (payments and credit notes are negative).
    /// </summary>
    public ImmutableArray<Balance> Balances() =>
    [
        .. Charges.Select(c => (c.Currency, c.Amount))
            .Concat(Invoices.Where(i => i.Status == InvoiceStatus.Cancelled).Select(i => (i.Currency, -i.Total)))
            .Concat(Ledger.Where(e => e.Counts).Select(e => (e.Currency, e.Amount)))
            .GroupBy(x => x.Item1)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Balance(g.Key, Money.SaturatingSum(g.Select(x => x.Item2)))),
    ];

    /// <summary>What is still owed on one invoice: its total with the payments, credit and debit notes against it; nothing once cancelled.</summary>
    public decimal Outstanding(Invoice invoice) =>
        invoice.Status == InvoiceStatus.Cancelled
            ? 0m
            : Money.SaturatingSum(Ledger.Where(e => e.Counts && e.InvoiceNumber == invoice.InvoiceNumber).Select(e => e.Amount).Prepend(invoice.Total));

    public Invoice? FindInvoice(string numberOrSequence) =>
        int.TryParse(numberOrSequence, out var sequence)
            ? Invoices.FirstOrDefault(i => i.Sequence == sequence)
            : Invoices.FirstOrDefault(i => i.InvoiceNumber == numberOrSequence);

    public OrderCharges ChargesOf(string orderId) =>
        new(AccountId, orderId, [.. Charges.Where(c => c.OrderId == orderId)], Invoices.FirstOrDefault(i => i.OrderId == orderId)?.InvoiceNumber);

    public static Decision<IAccountEvent> Decide(AccountState state, IAccountCommand command)
    {
        if (state.Processed.Contains(command.MessageId))
            return Decision<IAccountEvent>.Answer(Done(state, duplicate: true));
        if (!state.IsOpen && command is not PrepareOrder { OpenIfMissing: true })
            return Decision<IAccountEvent>.Refuse(state.AccountId, ErrorCodes.AccountNotFound, $"Account {state.AccountId} does not exist.");

        return command switch
        {
            PrepareOrder prepare => DecidePrepare(state, prepare),
            UpdateAccount update => Decision<IAccountEvent>.Persist(Done(state),
                new AccountUpdated(update.AccountId, update.Intake, update.BillingAddress, update.PaymentMethod, update.Intake.ReceivedAt,
                    update.Contact, update.CycleDay, update.Discounts, update.RemovedDiscounts)),
            RecordCycleInvoice record => DecideCycleInvoice(state, record),
            ApplyCompletedOrder completed => DecideCompleted(state, completed),
            AbandonOrderChanges abandon => DecideClose(state, abandon),
            IssueOrderInvoice issue => DecideInvoice(state, issue),
            ApplyBulkOperation bulk => AccountBulkRules.Decide(state, bulk),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown account command"),
        };
    }

    private static Decision<IAccountEvent> DecidePrepare(AccountState state, PrepareOrder prepare)
    {
        if (state.PendingChanges.ContainsKey(prepare.OrderId) || state.CompletedOrders.Contains(prepare.OrderId))
            return Decision<IAccountEvent>.Answer(Done(state, duplicate: true));
        if (SubscriptionRules.Check(state.Subscriptions, prepare.Changes) is { } problem)
            return Decision<IAccountEvent>.Refuse(state.AccountId, problem.ErrorCode, problem.Message);
        var requested = new SubscriptionChangesRequested(state.AccountId, prepare.MessageId, prepare.OrderId, prepare.Changes, prepare.At);
        return state.IsOpen
            ? Decision<IAccountEvent>.Persist(Done(state), requested)
            : Decision<IAccountEvent>.Persist(Done(state), new AccountOpened(state.AccountId, prepare.MessageId, prepare.OrderId, prepare.At), requested);
    }

    /// <summary>
    /// An order cancelled or failed: before it completed, its pending changes are dropped; after, it is compensated — the
    /// subscriptions it added end now and its charges are credited in full by credit note <c>CN-{order}</c> (against its
    /// invoice when one was issued). Once per order.
    /// </summary>
    private static Decision<IAccountEvent> DecideClose(AccountState state, AbandonOrderChanges close)
    {
        if (state.PendingChanges.ContainsKey(close.OrderId))
            return Decision<IAccountEvent>.Persist(Done(state),
                new SubscriptionChangesAbandoned(state.AccountId, close.MessageId, close.OrderId, close.Reason, close.At));
        if (!state.CompletedOrders.Contains(close.OrderId) || state.ClosedOrders.Contains(close.OrderId))
            return Decision<IAccountEvent>.Answer(Done(state, duplicate: true));

        var ended = state.Subscriptions.Where(s => s.OrderId == close.OrderId && s.Status != SubscriptionStatus.Removed)
            .Select(s => s with { Status = SubscriptionStatus.Removed, Since = close.At }).ToImmutableArray();
        var charges = state.Charges.Where(c => c.OrderId == close.OrderId).ToList();
        LedgerEntry? credit = null;
        if (charges.Count > 0)
        {
            var total = Billing.Round(Money.SaturatingSum(charges.Select(c => c.Amount)));
            if (total != 0m)
                credit = new LedgerEntry("CN-" + close.OrderId, LedgerEntryKind.CreditNote, state.Invoices.FirstOrDefault(i => i.OrderId == close.OrderId)?.InvoiceNumber,
                    -total, charges[0].Currency, $"Order {close.OrderId} {close.Reason}: its charges credited", null, close.At);
        }

        return Decision<IAccountEvent>.Persist(Done(state),
            new OrderCompensated(state.AccountId, close.MessageId, close.OrderId, ended, credit, close.Reason, close.At));
    }

    private static Decision<IAccountEvent> DecideCompleted(AccountState state, ApplyCompletedOrder completed)
    {
        if (state.CompletedOrders.Contains(completed.OrderId) || state.ClosedOrders.Contains(completed.OrderId))
            return Decision<IAccountEvent>.Answer(Done(state, duplicate: true));
        var changes = state.PendingChanges.TryGetValue(completed.OrderId, out var pending) ? pending : completed.Changes;
        var subscriptions = SubscriptionRules.Apply(state.Subscriptions, completed.OrderId, changes, completed.CompletedAt);
        var charges = Billing.ChargesFor(completed.OrderId, changes, completed.CompletedAt);
        var applied = new SubscriptionChangesApplied(state.AccountId, completed.MessageId, completed.OrderId, subscriptions, completed.CompletedAt);
        return charges.IsEmpty
            ? Decision<IAccountEvent>.Persist(Done(state), applied)
            : Decision<IAccountEvent>.Persist(Done(state), applied,
                new ChargesPosted(state.AccountId, completed.MessageId, completed.OrderId, charges, completed.CompletedAt));
    }

    private static Decision<IAccountEvent> DecideInvoice(AccountState state, IssueOrderInvoice issue)
    {
        if (state.Invoices.Any(i => i.OrderId == issue.OrderId))
            return Decision<IAccountEvent>.Answer(Done(state, duplicate: true));
        var charges = state.Charges.Where(c => c.OrderId == issue.OrderId).ToImmutableArray();
        if (charges.IsEmpty)
            return Decision<IAccountEvent>.Refuse(state.AccountId, ErrorCodes.InvalidStateTransition,
                $"Order {issue.OrderId} has no charges on account {state.AccountId} to invoice.");
        var invoice = Billing.InvoiceFor(state.AccountId, state.Invoices.Length + 1, issue.OrderId, charges, issue.At);
        return Decision<IAccountEvent>.Persist(Done(state), new InvoiceIssued(state.AccountId, issue.MessageId, invoice, issue.At, state.Contact?.Email));
    }

    /// <summary>A cycle's invoice, already committed by the bill run beside the usage it billed: recorded once, numbered in turn.</summary>
    private static Decision<IAccountEvent> DecideCycleInvoice(AccountState state, RecordCycleInvoice record)
    {
        if (state.Invoices.Any(i => i.InvoiceNumber == record.Invoice.InvoiceNumber))
            return Decision<IAccountEvent>.Answer(Done(state, duplicate: true));
        var invoice = record.Invoice with { Sequence = state.Invoices.Length + 1 };
        return Decision<IAccountEvent>.Persist(Done(state), new CycleInvoiceIssued(state.AccountId, record.MessageId, invoice, record.Charges, record.At));
    }

    internal static CommandDone Done(AccountState state, bool duplicate = false) => new(state.AccountId, duplicate);

    public AccountState Apply(IAccountEvent @event) => (@event switch
    {
        AccountOpened e => this with { IsOpen = true, OpenedAt = e.At, UpdatedAt = e.At },
        AccountUpdated e => this with
        {
            BillingAddress = e.BillingAddress ?? BillingAddress,
            PaymentMethod = e.PaymentMethod ?? PaymentMethod,
            Contact = e.Contact ?? Contact,
            CycleDay = e.CycleDay ?? CycleDay,
            Discounts = [.. Discounts.Where(d => !(e.RemovedDiscounts ?? []).Contains(d.DiscountId) && (e.Discounts ?? []).All(n => n.DiscountId != d.DiscountId)),
                .. e.Discounts ?? []],
            UpdatedAt = e.At,
        },
        CycleInvoiceIssued e => this with { Invoices = Invoices.Add(e.Invoice), Charges = Charges.AddRange(e.Charges), UpdatedAt = e.At },
        SubscriptionChangesRequested e => this with { PendingChanges = PendingChanges.SetItem(e.OrderId, e.Changes), UpdatedAt = e.At },
        SubscriptionChangesApplied e => this with
        {
            Subscriptions = [.. Subscriptions.Where(s => e.Subscriptions.All(n => n.SubscriptionId != s.SubscriptionId)), .. e.Subscriptions],
            SubscriptionHistory = SubscriptionHistory.AddRange(e.Subscriptions),
            PendingChanges = PendingChanges.Remove(e.OrderId),
            CompletedOrders = CompletedOrders.Add(e.OrderId),
            UpdatedAt = e.At,
        },
        SubscriptionChangesAbandoned e => this with
        {
            PendingChanges = PendingChanges.Remove(e.OrderId), ClosedOrders = ClosedOrders.Add(e.OrderId), UpdatedAt = e.At,
        },
        OrderCompensated e => this with
        {
            Subscriptions = [.. Subscriptions.Where(s => e.Ended.All(n => n.SubscriptionId != s.SubscriptionId)), .. e.Ended],
            SubscriptionHistory = SubscriptionHistory.AddRange(e.Ended),
            Ledger = e.CreditNote is null ? Ledger : Ledger.Add(e.CreditNote),
            ClosedOrders = ClosedOrders.Add(e.OrderId),
            UpdatedAt = e.At,
        },
        ChargesPosted e => this with { Charges = Charges.AddRange(e.Charges), UpdatedAt = e.At },
        InvoiceIssued e => this with { Invoices = Invoices.Add(e.Invoice), UpdatedAt = e.At },
        InvoiceRegenerated e => this with
        {
            Invoices = Invoices.Select(i => i.InvoiceNumber == e.Invoice.InvoiceNumber ? e.Invoice : i).ToImmutableArray(),
            InvoiceHistory = InvoiceHistory.Add(new InvoiceAction(e.Invoice.InvoiceNumber, "REGENERATED", e.Reason, $"revision {e.Invoice.Revision}", e.JobId, e.At)),
            UpdatedAt = e.At,
        },
        InvoiceResent e => this with
        {
            InvoiceHistory = InvoiceHistory.Add(new InvoiceAction(e.InvoiceNumber, "RESENT", e.Reason, e.Vendor, e.JobId, e.At)),
            UpdatedAt = e.At,
        },
        InvoiceCancelled e => this with
        {
            Invoices = Invoices.Select(i => i.InvoiceNumber == e.InvoiceNumber ? i with { Status = InvoiceStatus.Cancelled } : i).ToImmutableArray(),
            InvoiceHistory = InvoiceHistory.Add(new InvoiceAction(e.InvoiceNumber, "CANCELLED", e.Reason, null, e.JobId, e.At)),
            UpdatedAt = e.At,
        },
        LedgerEntryPosted e => this with { Ledger = Ledger.Add(e.Entry), UpdatedAt = e.At },
        LedgerEntryReversed e => this with
        {
            Ledger = Ledger.Select(l => l.EntryId == e.EntryId ? l with { ReversedAt = e.At, ReversalReason = e.Reason } : l).ToImmutableArray(),
            UpdatedAt = e.At,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "unknown account event"),
    }) with { Processed = Processed.Add(@event.MessageId) };
}
