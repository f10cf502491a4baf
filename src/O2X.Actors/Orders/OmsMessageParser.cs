using System.Collections.Immutable;
using System.Text.Json;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Actors.Orders;

/// <summary>A validated OMS message (seed §6.1).</summary>
internal abstract record OmsMessage(string AccountId)
{
    /// <summary><c>object_type: ORDER</c>.</summary>
    public sealed record Order(string? OrderId, OrderDetails Details) : OmsMessage(Details.AccountId);

    /// <summary><c>object_type: ACCOUNT</c>, <c>action: UPDATE</c>.</summary>
    public sealed record AccountUpdate(string AccountId, PostalAddress? BillingAddress, PaymentMethod? PaymentMethod, DateTimeOffset SubmittedAt,
        BillingContact? Contact = null, int? CycleDay = null, ImmutableArray<Discount>? Discounts = null, ImmutableArray<string>? RemovedDiscounts = null)
        : OmsMessage(AccountId);
}

/// <summary>
/// Parses and validates OMS messages (seed §4.1 step 3, §6.1). Every problem is a
/// <see cref="NonRetryableException"/> naming the field: <c>INVALID_MESSAGE</c> when the body is not a JSON
/// object, <c>MISSING_FIELD</c>, <c>INVALID_FIELD</c>. (Card numbers are refused before parsing, on every queue:
/// <see cref="CardDataGuard"/>.)
/// </summary>
internal static class OmsMessageParser
{
    /// <summary>The most units of one product one order line may ask for.</summary>
    public const int MaxQuantity = 1_000_000;

    public static OmsMessage Parse(ReadOnlyMemory<byte> body)
    {
        using var document = ParseObject(body);
        var root = document.RootElement;
        var objectType = RequiredString(root, "object_type", "");
        return objectType switch
        {
            "ORDER" => ParseOrder(root),
            "ACCOUNT" => ParseAccount(root),
            _ => throw Invalid("object_type", $"'{TextExcerpt.Of(objectType)}' is not one of ORDER, ACCOUNT"),
        };
    }

    private static OmsMessage.Order ParseOrder(JsonElement root)
    {
        var accountId = RequiredId(root, "account_id", "");
        var orderType = RequiredEnum<OrderType>(root, "order_type", "");
        // A CANCEL names the order it cancels; other orders may bring their own id or get one assigned.
        var orderId = orderType == OrderType.Cancel ? RequiredId(root, "order_id", "") : OptionalId(root, "order_id", "");
        var services = ParseServices(root, orderType);
        var details = new OrderDetails(
            accountId,
            OptionalString(root, "user_id", ""),
            orderType,
            services,
            OptionalObject(root, "extended_data", ""),
            RequiredTimestamp(root, "submission_timestamp", ""),
            OptionalString(root, "source_system", ""),
            OptionalId(root, "correlation_id", ""));
        return new OmsMessage.Order(orderId, details);
    }

    private static ImmutableArray<ServiceLine> ParseServices(JsonElement root, OrderType orderType)
    {
        var array = RequiredArray(root, "services", "");
        if (array.GetArrayLength() == 0 && orderType != OrderType.Cancel)
            throw Invalid("services", $"must list at least one service for a {orderType.ToString().ToUpperInvariant()} order");

        var lines = ImmutableArray.CreateBuilder<ServiceLine>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var path = Index("", "services", index++);
            if (item.ValueKind != JsonValueKind.Object) throw Invalid(path, "must be an object");
            var customization = OptionalObject(item, "customization", path);
            if (customization is { } c) OptionalDate(c, "installation_date", Join(path, "customization"));
            lines.Add(new ServiceLine(
                RequiredEnum<ServiceAction>(item, "action", path),
                RequiredId(item, "product_code", path),
                RequiredPositiveInt(item, "quantity", path, MaxQuantity),
                ParsePricing(item, path),
                customization));
        }

        var services = lines.MoveToImmutable();
        var currency = services.Select(s => s.Pricing?.Currency).FirstOrDefault(c => c is not null);
        for (var i = 0; i < services.Length; i++)
        {
            if (services[i].Pricing is { } pricing && pricing.Currency != currency)
                throw Invalid($"services[{i}].pricing.currency", $"is {pricing.Currency} but the order is priced in {currency}; one order has one currency");
        }

        return services;
    }

    private static Pricing? ParsePricing(JsonElement line, string linePath)
    {
        var pricing = OptionalObject(line, "pricing", linePath);
        if (pricing is not { } p) return null;
        var path = Join(linePath, "pricing");
        var currency = RequiredString(p, "currency", path);
        if (!Iso4217.IsKnown(currency)) throw Invalid(Join(path, "currency"), $"'{TextExcerpt.Of(currency)}' is not an ISO-4217 currency code");
        return new Pricing(
            Money.OptionalAmount(p, "monthly_recurring_charge", path, currency) ?? 0m,
            Money.OptionalAmount(p, "one_time_charge", path, currency) ?? 0m,
            currency);
    }

    private static OmsMessage.AccountUpdate ParseAccount(JsonElement root)
    {
        var accountId = RequiredId(root, "account_id", "");
        var action = RequiredString(root, "action", "");
        if (action != "UPDATE") throw Invalid("action", $"'{TextExcerpt.Of(action)}' is not supported for ACCOUNT messages (only UPDATE)");
        var updates = RequiredObject(root, "updates", "");
        var billing = OptionalObject(updates, "billing_address", "updates") is { } b ? ParseAddress(b, "updates.billing_address") : null;
        var payment = OptionalObject(updates, "payment_method", "updates") is { } p ? ParsePaymentMethod(p, "updates.payment_method") : null;
        var contact = Invoicing.BillingFieldReader.Contact(updates, "updates");
        var cycleDay = Invoicing.BillingFieldReader.CycleDay(updates, "updates");
        var discounts = Invoicing.BillingFieldReader.Discounts(updates, "updates", planId: null);
        if (billing is null && payment is null && contact is null && cycleDay is null && discounts is null)
            throw Missing("updates.billing_address|updates.payment_method|updates.billing_contact|updates.billing_cycle_day|updates.discounts");
        return new OmsMessage.AccountUpdate(accountId, billing, payment, RequiredTimestamp(root, "submission_timestamp", ""), contact, cycleDay,
            discounts?.Set, discounts?.Removed);
    }

    private static PostalAddress ParseAddress(JsonElement address, string path) => new(
        OptionalString(address, "street", path),
        OptionalString(address, "city", path),
        OptionalString(address, "state", path),
        OptionalString(address, "postal_code", path),
        OptionalString(address, "country", path));

    private static PaymentMethod ParsePaymentMethod(JsonElement method, string path) => new(
        RequiredString(method, "type", path),
        RequiredString(method, "token", path),
        OptionalBool(method, "is_default", path) ?? false);
}
