using System.Text.Json;
using System.Text.Json.Nodes;
using O2X.Actors.Hosting;
using O2X.Actors.Orders;
using O2X.Actors.Messaging;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Host.Handlers;

/// <summary>
/// The custom queue of seed §3.3, as an example of adding one: <c>COMPLEX_PROVISIONING</c> carries the progress
/// of a provisioning that takes several vendor steps. Once every step is COMPLETED the order is completed (and
/// billed and invoiced) exactly as by a PROVISIONING_RESPONSE callback; a FAILED step fails the order with that
/// step's error; while steps are still PENDING nothing changes. Enable it with
/// <c>O2X:Bindings:COMPLEX_PROVISIONING:Handler = ComplexProvisioning</c>.
/// </summary>
/// <remarks>
/// Message: <c>{"order_id", "provisioning_id", "vendor"?, "steps": [{"name", "status": PENDING|COMPLETED|FAILED,
/// "completed_at"? (COMPLETED), "failed_at"? and "error": {"code", "message"} (FAILED)}]}</c>.
/// </remarks>
[QueueHandler(Name)]
internal sealed class ComplexProvisioningHandler(HandlerContext context) : IMessageHandler
{
    public const string Name = "ComplexProvisioning";

    private readonly OrderUpdater _updater = new(context.Regions, context.AskTimeout);

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        using var document = ParseObject(envelope.Body);
        var root = document.RootElement;
        var orderId = RequiredId(root, "order_id", "");
        var provisioningId = RequiredId(root, "provisioning_id", "");
        var vendor = OptionalString(root, "vendor", "") ?? "multi-vendor";
        var steps = RequiredArray(root, "steps", "");
        if (steps.GetArrayLength() == 0) throw Invalid("steps", "must name at least one step");

        JsonObject? failed = null;
        var pending = new List<string>();
        var completedAt = DateTimeOffset.MinValue;
        var index = 0;
        foreach (var step in steps.EnumerateArray())
        {
            var path = Index("", "steps", index++);
            if (step.ValueKind != JsonValueKind.Object) throw Invalid(path, "must be an object");
            var name = RequiredString(step, "name", path);
            switch (RequiredString(step, "status", path))
            {
                case "COMPLETED":
                    var at = RequiredTimestamp(step, "completed_at", path);
                    if (at > completedAt) completedAt = at;
                    break;
                case "PENDING":
                    pending.Add(name);
                    break;
                case "FAILED":
                    var error = RequiredObject(step, "error", path);
                    failed ??= new JsonObject
                    {
                        ["order_id"] = orderId,
                        ["provisioning_id"] = provisioningId,
                        ["vendor"] = vendor,
                        ["status"] = "FAILED",
                        ["failure_timestamp"] = RequiredTimestamp(step, "failed_at", path).ToString("O"),
                        ["error"] = new JsonObject
                        {
                            ["code"] = RequiredString(error, "code", Join(path, "error")),
                            ["message"] = $"step {name}: " + RequiredString(error, "message", Join(path, "error"), max: 1024),
                        },
                    };
                    break;
                case var other:
                    throw Invalid(Join(path, "status"), $"'{other}' is not one of PENDING, COMPLETED, FAILED");
            }
        }

        if (failed is not null) return Delegate(envelope, failed);
        if (pending.Count > 0)
        {
            // Nothing to record yet: the orchestrator sends the next progress message when more steps finish.
            return new HandlingPlan("order:" + orderId, _ => Task.FromResult<HandlingOutcome>(
                HandlingOutcome.ProcessedWith(("orderId", orderId), ("status", "PROVISIONING"), ("pendingSteps", string.Join(",", pending)))));
        }

        return Delegate(envelope, new JsonObject
        {
            ["order_id"] = orderId,
            ["provisioning_id"] = provisioningId,
            ["vendor"] = vendor,
            ["status"] = "COMPLETED",
            ["completion_timestamp"] = completedAt.ToString("O"),
        });
    }

    /// <summary>The final outcome is a provisioning callback (seed §6.2) under the same message id: idempotent like one.</summary>
    private HandlingPlan Delegate(MessageEnvelope envelope, JsonObject callback) =>
        _updater.Plan(envelope with { Body = JsonSerializer.SerializeToUtf8Bytes(callback) });
}
