using System.Text.Json.Nodes;
using O2X.Host.Testing;

namespace O2X.IntegrationTests;

/// <summary>Generated OMS messages based on the seed order.</summary>
internal static class OrderMessages
{
    private static readonly string Seed = HttpJson.SeedSample("oms/order-new.json");

    /// <summary>The seed order for account <c>ACC-{account}</c> under correlation id <c>SF-ORD-20240211-{n}</c>.</summary>
    public static string Order(int n, int account)
    {
        var order = JsonNode.Parse(Seed)!.AsObject();
        order["correlation_id"] = $"SF-ORD-20240211-{n:00000}";
        order["account_id"] = $"ACC-{account:0000}";
        return order.ToJsonString();
    }

    /// <summary>Invalid in one of several ways, each with its error code.</summary>
    public static (string Body, string Code) Invalid(int n) => (n % 5) switch
    {
        0 => ("{\"object_type\": \"ORDER\", \"account_id\": \"ACC-1\"", "INVALID_MESSAGE"),
        1 => (Without(n, "account_id"), "MISSING_FIELD"),
        2 => (With(n, o => o["services"]![0]!["quantity"] = 0), "INVALID_FIELD"),
        3 => (With(n, o => o["services"]![0]!["product_code"] = "NOT_A_PRODUCT"), "INVALID_PRODUCT"),
        _ => (With(n, o => o["services"]![0]!["pricing"]!["currency"] = "DOLLARS"), "INVALID_FIELD"),
    };

    private static string Without(int n, string field)
    {
        var order = JsonNode.Parse(Order(100_000 + n, 1))!.AsObject();
        order.Remove(field);
        return order.ToJsonString();
    }

    private static string With(int n, Action<JsonObject> change)
    {
        var order = JsonNode.Parse(Order(100_000 + n, 1))!.AsObject();
        change(order);
        return order.ToJsonString();
    }
}
