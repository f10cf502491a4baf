using System.Text.Json;
using O2X.Actors.Messaging;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Actors.Usage;

/// <summary>
/// The handler of the USAGE queue (seed §4.2 steps 9-10, §6.4 both messages): a rating batch rates the listed
/// usage records (<c>USG-{id}</c>) and/or every UNRATED record of the listed accounts (optionally one service);
/// a <c>RE_RATE</c> request re-rates the listed records with <c>new_rating_plan_id</c>. One transaction per message;
/// USAGE messages are handled one at a time on a node so accumulators are updated in order.
/// </summary>
internal sealed class UsageProcessor(UsageRater rater) : IMessageHandler
{
    public const string HandlerName = "UsageProcessor";

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        using var document = ParseObject(envelope.Body);
        var root = document.RootElement;
        var ids = Strings(root, "usage_record_ids");
        if (ids.Count > UsageRater.MaxIds) throw Invalid("usage_record_ids", $"at most {UsageRater.MaxIds} ids per message (was {ids.Count})");
        if (OptionalString(root, "reprocess_type", "") is { } reprocess)
        {
            if (reprocess != "RE_RATE") throw Invalid("reprocess_type", $"'{TextExcerpt.Of(reprocess)}' is not RE_RATE");
            if (ids.Count == 0) throw Missing("usage_record_ids");
            var planId = RequiredString(root, "new_rating_plan_id", "");
            // Whether the plan exists is known only with price-sync's versions, inside the rating transaction.
            return new HandlingPlan("usage", async ct => Outcome(await rater.ReRateAsync(ids, planId, ct)));
        }

        var accounts = Strings(root, "account_ids");
        if (ids.Count == 0 && accounts.Count == 0) throw Missing("usage_record_ids");
        var service = OptionalString(root, "service_type", "");
        if (service is not (null or "VOICE" or "DATA" or "SMS")) throw Invalid("service_type", $"'{TextExcerpt.Of(service)}' is not one of VOICE, DATA, SMS");
        // The seed's batch lists both ids and accounts: the ids are rated, and the accounts' remaining UNRATED records of the service.
        return new HandlingPlan("usage", async ct => Outcome(await rater.RateAsync(ids, accounts, service, ct)));
    }

    private static List<string> Strings(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return [];
        if (value.ValueKind != JsonValueKind.Array) throw Invalid(name, "must be an array");
        return value.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Invalid($"{name}[{i}]", "must be a string"))
            .ToList();
    }

    private static HandlingOutcome Outcome(RatingSummary summary)
    {
        var facts = new[]
        {
            ("rated", summary.Rated.ToString()), ("skipped", summary.Skipped.ToString()), ("notFound", summary.NotFound.ToString()),
            ("amount", summary.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        // Nothing left to rate (all already rated, e.g. a redelivery): the message had no effect.
        return summary.Rated == 0 && summary.Skipped > 0 ? HandlingOutcome.DuplicateWith(facts) : HandlingOutcome.ProcessedWith(facts);
    }
}
