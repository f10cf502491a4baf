using System.Text.Json;
using O2X.Actors.Messaging;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Actors.Orders;

/// <summary>A validated provisioning callback (seed §6.2).</summary>
internal sealed record ProvisioningResponse(string OrderId, ProvisioningOutcome Outcome);

/// <summary>
/// Parses PROVISIONING_RESPONSE and MCM_BILLING_OMS_RESPONSE callbacks (seed §6.2, both examples): status
/// COMPLETED with network details, or FAILED with the vendor error and its retry advice.
/// </summary>
internal static class ProvisioningResponseParser
{
    public static ProvisioningResponse Parse(ReadOnlyMemory<byte> body)
    {
        using var document = ParseObject(body);
        var root = document.RootElement;
        var orderId = RequiredId(root, "order_id", "");
        var provisioningId = RequiredId(root, "provisioning_id", "");
        var vendor = OptionalString(root, "vendor", "");
        var status = RequiredString(root, "status", "");
        ProvisioningOutcome outcome = status switch
        {
            "COMPLETED" => new ProvisioningOutcome.Completed(
                provisioningId,
                vendor,
                RequiredTimestamp(root, "completion_timestamp", ""),
                OptionalObject(root, "network_details", ""),
                OptionalString(root, "vendor_reference", "")),
            "FAILED" => new ProvisioningOutcome.Failed(
                provisioningId,
                vendor,
                RequiredTimestamp(root, "failure_timestamp", ""),
                ParseError(RequiredObject(root, "error", "")),
                OptionalBool(root, "retry_recommended", "") ?? false),
            _ => throw Invalid("status", $"'{TextExcerpt.Of(status)}' is not one of COMPLETED, FAILED"),
        };
        return new ProvisioningResponse(orderId, outcome);
    }

    private static VendorError ParseError(JsonElement error) => new(
        RequiredString(error, "code", "error"),
        RequiredString(error, "message", "error", max: 1024),
        OptionalObject(error, "details", "error"));
}
