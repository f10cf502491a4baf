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
}
