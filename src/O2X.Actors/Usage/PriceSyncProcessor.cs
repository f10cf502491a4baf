using System.Globalization;
using System.Text.Json;
using O2X.Actors.Messaging;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Actors.Usage;

/// <summary>
/// The handler of the price-sync queue (seed §3.1, pricing_sync): catalog updates from the price vendor. Each entry
/// creates or updates (<c>UPSERT</c>) or retires (<c>RETIRE</c>) a rating plan from <c>effective_from</c> on; rating
/// uses the version in force when the usage happened. A whole message is checked before anything is stored, and
/// storing the same versions again changes nothing. O2X's default plans cannot be retired (usage would have no plan). An UPSERT
/// may carry the plan's <c>discounts</c> (see <see cref="Invoicing.BillingFieldReader"/>): the bill run takes them off that plan's usage.
/// </summary>
/// <remarks>
/// <code>{"sync_id", "plans": [{"action": "UPSERT", "plan_id", "service_type", "unit": "MINUTE|MB|SMS", "unit_size",
/// "included_units", "bands": [{"from", "rate"}], "effective_from"} | {"action": "RETIRE", "plan_id", "effective_from"}]}</code>
/// </remarks>
internal sealed class PriceSyncProcessor(PricePlanStore store, RatingCatalog catalog) : IMessageHandler
{
    public const string HandlerName = "PriceSyncProcessor";

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        using var document = ParseObject(envelope.Body);
        var root = document.RootElement;
        var syncId = RequiredString(root, "sync_id", "");
        var entries = RequiredArray(root, "plans", "");
        if (entries.GetArrayLength() == 0) throw Invalid("plans", "must name at least one plan");
        var versions = new List<PricePlanVersion>();
        var discounts = new List<(Accounts.Discount, bool)>();
        var index = 0;
        foreach (var entry in entries.EnumerateArray())
        {
            var path = Index("", "plans", index++);
            if (entry.ValueKind != JsonValueKind.Object) throw Invalid(path, "must be an object");
            var planId = RequiredId(entry, "plan_id", path);
            var from = RequiredTimestamp(entry, "effective_from", path).UtcDateTime;
            switch (RequiredString(entry, "action", path))
            {
                case "RETIRE":
                    if (catalog.IsDefault(planId)) throw Invalid(Join(path, "plan_id"), $"{planId} is a default plan and cannot be retired");
                    versions.Add(new PricePlanVersion(planId, from, true, null));
                    break;
                case "UPSERT":
                    var plan = new PricePlan(planId, RequiredString(entry, "service_type", path), RequiredString(entry, "unit", path),
                        Long(entry, "unit_size", path), Long(entry, "included_units", path), Bands(RequiredArray(entry, "bands", path), Join(path, "bands")));
                    if (plan.ServiceType is not ("VOICE" or "DATA" or "SMS")) throw Invalid(Join(path, "service_type"), "must be VOICE, DATA or SMS");
                    if (plan.Validate().FirstOrDefault() is { } problem) throw Invalid(path, problem);
                    versions.Add(new PricePlanVersion(planId, from, false, plan));
                    if (Invoicing.BillingFieldReader.Discounts(entry, path, planId) is { } planDiscounts)
                        discounts.AddRange(planDiscounts.Set.Select(d => (d, false)).Concat(planDiscounts.Removed.Select(id =>
                            (new Accounts.Discount(id, Accounts.DiscountKind.Percentage, 0m, null, DateOnly.MinValue, null, null, planId), true))));
                    break;
                case var other:
                    throw Invalid(Join(path, "action"), $"'{TextExcerpt.Of(other)}' is not one of UPSERT, RETIRE");
            }
        }

        return new HandlingPlan("price-sync", async ct =>
        {
            await store.UpsertAsync(syncId, versions, ct);
            await Invoicing.PlanDiscountStore.UpsertAsync(store.Database, syncId, discounts, ct);
            return HandlingOutcome.ProcessedWith(("syncId", syncId), ("versions", versions.Count.ToString(CultureInfo.InvariantCulture)));
        });
    }

    private static long Long(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n)
            ? n
            : throw Invalid(Join(path, name), "must be a whole number");

    private static List<PriceBand> Bands(JsonElement bands, string path) =>
        bands.EnumerateArray().Select((b, i) => new PriceBand(Long(b, "from", $"{path}[{i}]"),
            Money.OptionalRate(b, "rate", $"{path}[{i}]") ?? throw Missing($"{path}[{i}].rate"))).ToList();
}
