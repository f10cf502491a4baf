using System.Collections.Immutable;
using System.Text.Json;

namespace O2X.Actors.Orders;

/// <summary>Seed §6.1 <c>order_type</c>.</summary>
internal enum OrderType { New, Modify, Cancel, Suspend, Resume }

/// <summary>Seed §6.1 <c>services[].action</c>.</summary>
internal enum ServiceAction { Add, Remove, Change }

/// <summary>
/// The order lifecycle: RECEIVED → PROVISIONING → COMPLETED → BILLED → INVOICED, or FAILED / CANCELLED. STUCK: provisioning
/// did not answer within <c>O2X:Orders:ProvisioningTimeout</c>; an operator retries it (→ PROVISIONING) or fails it (→ FAILED),
/// and a callback arriving meanwhile is taken as it would have been in PROVISIONING.
/// </summary>
internal enum OrderStatus { Received, Provisioning, Completed, Billed, Invoiced, Failed, Cancelled, Stuck }

/// <summary>Seed §6.1 <c>services[].pricing</c>.</summary>
internal sealed record Pricing(decimal MonthlyRecurringCharge, decimal OneTimeCharge, string Currency);

/// <summary>One line of an order: what to add, remove or change, and at what price.</summary>
internal sealed record ServiceLine(
    ServiceAction Action,
    string ProductCode,
    int Quantity,
    Pricing? Pricing,
    JsonElement? Customization);

/// <summary>An order as the OMS message describes it (seed §6.1), after validation.</summary>
internal sealed record OrderDetails(
    string AccountId,
    string? UserId,
    OrderType OrderType,
    ImmutableArray<ServiceLine> Services,
    JsonElement? ExtendedData,
    DateTimeOffset SubmittedAt,
    string? SourceSystem,
    string? CorrelationId)
{
    /// <summary>The one currency of the order's prices (validated to be single), or null when unpriced.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Currency => Services.Select(s => s.Pricing?.Currency).FirstOrDefault(c => c is not null);
}

/// <summary>A vendor's provisioning error (seed §6.2 <c>error</c>).</summary>
internal sealed record VendorError(string Code, string Message, JsonElement? Details);

/// <summary>What a provisioning callback (seed §6.2) reports.</summary>
internal abstract record ProvisioningOutcome(string ProvisioningId, string? Vendor)
{
    public sealed record Completed(
        string ProvisioningId,
        string? Vendor,
        DateTimeOffset CompletedAt,
        JsonElement? NetworkDetails,
        string? VendorReference) : ProvisioningOutcome(ProvisioningId, Vendor);

    public sealed record Failed(
        string ProvisioningId,
        string? Vendor,
        DateTimeOffset FailedAt,
        VendorError Error,
        bool RetryRecommended) : ProvisioningOutcome(ProvisioningId, Vendor);
}
