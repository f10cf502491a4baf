using System.Collections.Frozen;
using System.Runtime.Serialization;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Messaging.Rejections;
using O2X.Actors.Orders;

namespace O2X.Actors.Serialization;

/// <summary>
/// The stable manifest of every <see cref="IO2XMessage"/> type. A manifest is forever: when an event's
/// shape must change, add a new type with a new manifest (".v2") and keep reading the old one.
/// </summary>
internal static class O2XManifests
{
    private static readonly (string Manifest, Type Type)[] All =
    [
        // Orders: commands, events, queries, state
        ("ord.place", typeof(PlaceOrder)),
        ("ord.cancel", typeof(CancelOrder)),
        ("ord.prov.complete", typeof(CompleteProvisioning)),
        ("ord.prov.fail", typeof(FailProvisioning)),
        ("ord.mark-billed", typeof(MarkOrderBilled)),
        ("ord.mark-invoiced", typeof(MarkOrderInvoiced)),
        ("ord.prov.flag-stuck", typeof(FlagProvisioningStuck)),
        ("ord.prov.retry", typeof(RetryProvisioning)),
        ("ord.prov.abandon", typeof(AbandonProvisioning)),
        ("ord.prov-stuck.v1", typeof(ProvisioningStuck)),
        ("ord.received.v1", typeof(OrderReceived)),
        ("ord.prov-requested.v1", typeof(ProvisioningRequested)),
        ("ord.duplicate.v1", typeof(DuplicateOrderSubmitted)),
        ("ord.cancelled.v1", typeof(OrderCancelled)),
        ("ord.prov-completed.v1", typeof(ProvisioningCompleted)),
        ("ord.prov-failed.v1", typeof(ProvisioningFailed)),
        ("ord.billed.v1", typeof(OrderBilled)),
        ("ord.invoiced.v1", typeof(OrderInvoiced)),
        ("ord.get", typeof(GetOrder)),
        ("ord.view", typeof(OrderView)),
        ("ord.state.v1", typeof(OrderState)),
        ("ordnum.allocate", typeof(AllocateOrderNumber)),
        ("ordnum.assigned", typeof(OrderNumberAssigned)),
        ("ordnum.allocated.v1", typeof(OrderNumberAllocated)),
        ("ordnum.state.v1", typeof(OrderNumberingState)),
        ("ordnum.get", typeof(GetOrderNumbering)),
        ("ordnum.view", typeof(OrderNumbering)),

        // Accounts
        ("acc.prepare-order", typeof(PrepareOrder)),
        ("acc.update", typeof(UpdateAccount)),
        ("acc.apply-completed", typeof(ApplyCompletedOrder)),
        ("acc.abandon-changes", typeof(AbandonOrderChanges)),
        ("acc.issue-invoice", typeof(IssueOrderInvoice)),
        ("acc.opened.v1", typeof(AccountOpened)),
        ("acc.updated.v1", typeof(AccountUpdated)),
        ("acc.changes-requested.v1", typeof(SubscriptionChangesRequested)),
        ("acc.changes-applied.v1", typeof(SubscriptionChangesApplied)),
        ("acc.changes-abandoned.v1", typeof(SubscriptionChangesAbandoned)),
        ("acc.order-compensated.v1", typeof(OrderCompensated)),
        ("acc.charges-posted.v1", typeof(ChargesPosted)),
        ("acc.invoice-issued.v1", typeof(InvoiceIssued)),
        ("acc.bulk-operation", typeof(ApplyBulkOperation)),
        ("acc.invoice-regenerated.v1", typeof(InvoiceRegenerated)),
        ("acc.invoice-resent.v1", typeof(InvoiceResent)),
        ("acc.invoice-cancelled.v1", typeof(InvoiceCancelled)),
        ("acc.ledger-posted.v1", typeof(LedgerEntryPosted)),
        ("acc.ledger-reversed.v1", typeof(LedgerEntryReversed)),
        ("acc.get", typeof(GetAccount)),
        ("acc.get-invoice", typeof(GetInvoice)),
        ("acc.get-order-charges", typeof(GetOrderCharges)),
        ("acc.order-charges", typeof(OrderCharges)),
        ("acc.invoice", typeof(Invoice)),
        ("acc.view", typeof(AccountView)),
        ("acc.state.v1", typeof(AccountState)),
        ("acc.record-cycle-invoice", typeof(RecordCycleInvoice)),
        ("acc.cycle-invoice-issued.v1", typeof(CycleInvoiceIssued)),
        ("acc.get-billing-state", typeof(GetBillingState)),
        ("acc.release-after-billing", typeof(ReleaseAfterBilling)),

        // Bill runs
        ("bill.start", typeof(O2X.Actors.Invoicing.StartBillRun)),
        ("bill.accepted", typeof(O2X.Actors.Invoicing.BillRunAccepted)),

        // Error queues
        ("rej.record", typeof(RecordRejection)),
        ("rej.rejected.v1", typeof(MessageRejected)),
        ("rej.state.v1", typeof(RejectionLogState)),

        // Replies
        ("reply.done", typeof(CommandDone)),
        ("reply.refused", typeof(CommandRefused)),
        ("reply.notfound", typeof(EntityNotFound)),
    ];

    private static readonly FrozenDictionary<Type, string> ByType = All.ToFrozenDictionary(e => e.Type, e => e.Manifest);
    private static readonly FrozenDictionary<string, Type> ByManifest = All.ToFrozenDictionary(e => e.Manifest, e => e.Type, StringComparer.Ordinal);

    public static IEnumerable<Type> RegisteredTypes => ByType.Keys;

    public static string ManifestOf(Type type) =>
        ByType.TryGetValue(type, out var manifest)
            ? manifest
            : throw new SerializationException($"{type.FullName} has no manifest in {nameof(O2XManifests)}; add one before persisting or sending it.");

    public static Type TypeOf(string manifest) =>
        ByManifest.TryGetValue(manifest, out var type)
            ? type
            : throw new SerializationException($"Unknown O2X manifest '{manifest}'.");
}
