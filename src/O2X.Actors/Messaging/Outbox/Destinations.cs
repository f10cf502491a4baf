namespace O2X.Actors.Messaging.Outbox;

/// <summary>The outbound destinations of seed §3.1.</summary>
internal static class Destinations
{
    public const string OmsArchive = "OMS_ARCHIVE";
    public const string OmsResponse = "OMS_RESPONSE";
    public const string OmsError = "OMS_ERROR";
    public const string ProvisioningRequest = "PROVISIONING_REQUEST";

    /// <summary>Seed §3.2's INVOICE: issued invoices to send to the account's billing contact (e-mail with the PDF, <c>Transport=Smtp</c>).</summary>
    public const string Invoice = "INVOICE";

    public static readonly IReadOnlyList<string> All = [OmsArchive, OmsResponse, OmsError, ProvisioningRequest, Invoice];
}
