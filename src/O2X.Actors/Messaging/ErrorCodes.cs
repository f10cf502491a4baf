namespace O2X.Actors.Messaging;

/// <summary>
/// The stable error codes O2X puts on rejected messages (error-queue envelopes, Problem Details).
/// Clients and operators match on these; never rename one.
/// </summary>
public static class ErrorCodes
{
    /// <summary>Not JSON, not UTF-8, not an object, or over the size limit.</summary>
    public const string InvalidMessage = "INVALID_MESSAGE";
    public const string MissingField = "MISSING_FIELD";
    public const string InvalidField = "INVALID_FIELD";
    public const string AccountNotFound = "ACCOUNT_NOT_FOUND";
    public const string DuplicateOrder = "DUPLICATE_ORDER";
    public const string InvalidProduct = "INVALID_PRODUCT";
    public const string InvalidStateTransition = "INVALID_STATE_TRANSITION";
    public const string OrderNotFound = "ORDER_NOT_FOUND";
    public const string InvoiceNotFound = "INVOICE_NOT_FOUND";
    /// <summary>A message carried something that looks like a card number (PAN); O2X stores tokens only.</summary>
    public const string CardNumberNotAllowed = "CARD_NUMBER_NOT_ALLOWED";

    /// <summary>A MEDIATION message names a <c>vendor_format</c> no parser reads.</summary>
    public const string UnsupportedFormat = "UNSUPPORTED_FORMAT";

    /// <summary>A MEDIATION message's <c>file_location</c> uses a scheme no reader serves (e.g. sftp:// without a reader).</summary>
    public const string UnsupportedLocation = "UNSUPPORTED_LOCATION";

    /// <summary>
    /// A MEDIATION message's <c>file_location</c> is outside the allowed directories (<c>O2X:Usage:Files:Roots</c>), leads out of
    /// them through a link, or is not a regular file O2X may read.
    /// </summary>
    public const string LocationNotAllowed = "LOCATION_NOT_ALLOWED";

    /// <summary>A BULK message names an <c>api_name</c> that is not one of seed §4.3's ten operations.</summary>
    public const string UnknownApiName = "UNKNOWN_API_NAME";

    /// <summary>A BULK message without payload items.</summary>
    public const string EmptyPayloads = "EMPTY_PAYLOADS";

    /// <summary>A BULK message with more than 100 payload items (split larger jobs; <c>POST /api/bulk</c> does).</summary>
    public const string TooManyPayloads = "TOO_MANY_PAYLOADS";

    /// <summary>A BULK message reuses a job id that belongs to a different job (other operation or size).</summary>
    public const string BulkJobConflict = "BULK_JOB_CONFLICT";

    /// <summary>A bulk item names a payment or adjustment the account does not have.</summary>
    public const string EntryNotFound = "ENTRY_NOT_FOUND";

    /// <summary>A bulk item would post a payment, note or adjustment under an id the account already has.</summary>
    public const string DuplicateEntry = "DUPLICATE_ENTRY";

    /// <summary>A payment allocation or credit note larger than what is still owed on the invoice.</summary>
    public const string AmountExceedsOutstanding = "AMOUNT_EXCEEDS_OUTSTANDING";

    /// <summary>A bulk item's currency differs from the invoice's.</summary>
    public const string CurrencyMismatch = "CURRENCY_MISMATCH";

    /// <summary>An operator failed the order's provisioning after it timed out (STUCK); recorded as the vendor error.</summary>
    public const string ProvisioningTimeout = "PROVISIONING_TIMEOUT";

    /// <summary>A COMPLETED provisioning callback for an order an operator had already failed after a timeout: to reconcile by hand.</summary>
    public const string LateProvisioningCallback = "LATE_PROVISIONING_CALLBACK";
}
