using System.Collections.Immutable;
using System.Text.Json;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Actors.Invoicing;

/// <summary>
/// Reads the billing fields OMS ACCOUNT UPDATE and price-sync messages carry: a billing contact, a cycle day and discounts.
/// Every problem is a <see cref="NonRetryableException"/> naming the field.
/// </summary>
/// <remarks>
/// <code>"billing_contact": {"email", "name"?}, "billing_cycle_day": 1-28,
/// "discounts": [{"discount_id", "type": "PERCENTAGE|FIXED_AMOUNT", "value", "currency" (FIXED_AMOUNT), "effective_from": "yyyy-MM-dd",
///                "effective_to"?, "description"?, "action"?: "UPSERT|REMOVE"}]</code>
/// </remarks>
internal static class BillingFieldReader
{
    /// <summary>Discounts one message may carry.</summary>
    public const int MaxDiscounts = 50;

    public static BillingContact? Contact(JsonElement parent, string path)
    {
        if (OptionalObject(parent, "billing_contact", path) is not { } contact) return null;
        var at = Join(path, "billing_contact");
        var email = RequiredString(contact, "email", at, 254);
        if (!IsMailbox(email)) throw Invalid(Join(at, "email"), $"'{TextExcerpt.Of(email)}' is not an e-mail address such as billing@example.com");
        var name = OptionalString(contact, "name", at, 200);
        if (name is not null && name.Any(char.IsControl)) throw Invalid(Join(at, "name"), "must not contain control characters");
        return new BillingContact(email, name);
    }

    /// <summary>A bare address (no display name, comments or control characters): what goes into the To header.</summary>
    public static bool IsMailbox(string email) =>
        email.Length <= 254 && !email.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) && email.Count(c => c == '@') == 1 &&
        System.Net.Mail.MailAddress.TryCreate(email, out var parsed) && parsed.Address == email && parsed.DisplayName.Length == 0 &&
        parsed.Host.Contains('.');

    public static int? CycleDay(JsonElement parent, string path)
    {
        if (!parent.TryGetProperty("billing_cycle_day", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var day) || day is < 1 or > 28)
            throw Invalid(Join(path, "billing_cycle_day"), "must be a whole number from 1 to 28 (a day every month has)");
        return day;
    }

    /// <summary>The discounts to set and the ids to remove; null when the field is absent.</summary>
    public static (ImmutableArray<Discount> Set, ImmutableArray<string> Removed)? Discounts(JsonElement parent, string path, string? planId)
    {
        if (!parent.TryGetProperty("discounts", out var field) || field.ValueKind == JsonValueKind.Null) return null;
        var array = RequiredArray(parent, "discounts", path);
        if (array.GetArrayLength() > MaxDiscounts) throw Invalid(Join(path, "discounts"), $"may list at most {MaxDiscounts} discounts");
        var set = ImmutableArray.CreateBuilder<Discount>();
        var removed = ImmutableArray.CreateBuilder<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = Index(path, "discounts", index++);
            if (item.ValueKind != JsonValueKind.Object) throw Invalid(at, "must be an object");
            var id = RequiredId(item, "discount_id", at);
            if (!seen.Add(id)) throw Invalid(Join(at, "discount_id"), $"{id} is listed twice");
            var action = OptionalString(item, "action", at) ?? "UPSERT";
            if (action == "REMOVE")
            {
                removed.Add(id);
                continue;
            }

            if (action != "UPSERT") throw Invalid(Join(at, "action"), $"'{TextExcerpt.Of(action)}' is not one of UPSERT, REMOVE");
            var kind = RequiredString(item, "type", at) switch
            {
                "PERCENTAGE" => DiscountKind.Percentage,
                "FIXED_AMOUNT" => DiscountKind.FixedAmount,
                var other => throw Invalid(Join(at, "type"), $"'{TextExcerpt.Of(other)}' is not one of PERCENTAGE, FIXED_AMOUNT"),
            };
            string? currency = null;
            decimal value;
            if (kind == DiscountKind.Percentage)
            {
                value = Money.OptionalRate(item, "value", at) ?? throw Missing(Join(at, "value"));
                if (value is <= 0m or > 100m) throw Invalid(Join(at, "value"), "a percentage must be more than 0 and at most 100");
            }
            else
            {
                currency = RequiredString(item, "currency", at);
                if (!Iso4217.IsKnown(currency)) throw Invalid(Join(at, "currency"), $"'{TextExcerpt.Of(currency)}' is not an ISO-4217 currency code");
                value = Money.OptionalAmount(item, "value", at, currency) ?? throw Missing(Join(at, "value"));
                if (value <= 0m) throw Invalid(Join(at, "value"), "must be more than 0");
            }

            var from = OptionalDate(item, "effective_from", at) ?? throw Missing(Join(at, "effective_from"));
            var to = OptionalDate(item, "effective_to", at);
            if (to < from) throw Invalid(Join(at, "effective_to"), "must not be before effective_from");
            var description = OptionalString(item, "description", at, 200);
            if (description is not null && description.Any(char.IsControl)) throw Invalid(Join(at, "description"), "must not contain control characters");
            set.Add(new Discount(id, kind, value, currency, from, to, description, planId));
        }

        return (set.ToImmutable(), removed.ToImmutable());
    }
}
