using System.Collections.Immutable;

namespace O2X.Actors.Accounts;

/// <summary>The ten bulk operations of seed §4.3 (<c>BulkApiName</c>); on the wire in the seed's spelling, e.g. <c>REGENERATE_INVOICE</c>.</summary>
internal enum BulkApiName
{
    ResendInvoiceToVendor,
    RegenerateInvoice,
    CancelInvoice,
    ReversePayment,
    AllocatePayment,
    ProcessBankFile,
    CreateCreditNote,
    CreateDebitNote,
    CreateAdjustment,
    ReverseAdjustment,
}

internal static class BulkApiNames
{
    private static readonly ImmutableDictionary<string, BulkApiName> ByWireName =
        Enum.GetValues<BulkApiName>().ToImmutableDictionary(WireName, StringComparer.Ordinal);

    /// <summary>The seed's spelling: <c>CreateCreditNote</c> → <c>CREATE_CREDIT_NOTE</c>.</summary>
    public static string WireName(BulkApiName name) => System.Text.Json.JsonNamingPolicy.SnakeCaseUpper.ConvertName(name.ToString());

    public static IEnumerable<string> All => Enum.GetValues<BulkApiName>().Select(WireName);

    public static bool TryParse(string value, out BulkApiName name) => ByWireName.TryGetValue(value, out name);
}

/// <summary>
/// One bulk item for one account, already checked for shape by the BULK handler; the account decides whether it
/// can apply to its invoices and ledger. Amounts are positive except an adjustment's, whose sign says which way it
/// moves the balance (positive: the customer owes more).
/// </summary>
internal sealed record BulkOperation(
    BulkApiName Api,
    string? InvoiceNumber,
    string? EntryId,
    decimal? Amount,
    string? Currency,
    string? Reason,
    string? Vendor);

internal enum LedgerEntryKind { Payment, CreditNote, DebitNote, Adjustment }

/// <summary>
/// A payment, credit note, debit note or adjustment on the account. <see cref="Amount"/> is the signed effect on what
/// the customer owes: payments and credit notes are negative, debit notes positive, adjustments either. A reversed
/// entry stays listed (with when and why) but no longer counts.
/// </summary>
internal sealed record LedgerEntry(
    string EntryId,
    LedgerEntryKind Kind,
    string? InvoiceNumber,
    decimal Amount,
    string Currency,
    string? Reason,
    string? JobId,
    DateTimeOffset PostedAt,
    DateTimeOffset? ReversedAt = null,
    string? ReversalReason = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Counts => ReversedAt is null;
}

/// <summary>Something done to an issued invoice after it was issued: regenerated, resent to the vendor, cancelled.</summary>
internal sealed record InvoiceAction(string InvoiceNumber, string Action, string? Reason, string? Detail, string? JobId, DateTimeOffset At);
