using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace O2X.Host.Testing;

public static class HttpJson
{
    public static HttpRequestMessage Post(string url, string body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    public static async Task<JsonNode> ReadJson(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new JsonException("empty body");

    public static MediaTypeHeaderValue? ContentType(this HttpResponseMessage response) => response.Content.Headers.ContentType;

    /// <summary>Every message of an outbox destination, following the pages.</summary>
    public static async Task<IReadOnlyList<JsonNode>> OutboxAsync(this HttpClient http, string destination)
    {
        var items = new List<JsonNode>();
        long after = 0;
        while (true)
        {
            var page = await (await http.GetAsync($"/api/outbox/{destination}?after={after}&limit=1000")).ReadJson();
            var batch = page["items"]!.AsArray();
            if (batch.Count == 0) return items;
            items.AddRange(batch.Select(i => i!));
            after = page["next_after"]!.GetValue<long>();
        }
    }

    /// <summary>Waits until the outbox projection has delivered at least <paramref name="count"/> messages to a destination.</summary>
    public static Task<IReadOnlyList<JsonNode>> OutboxAtLeastAsync(this HttpClient http, string destination, int count, TimeSpan? timeout = null) =>
        O2X.Testing.Eventually.ReturnsAsync(() => http.OutboxAsync(destination), items => items.Count >= count, timeout ?? TimeSpan.FromSeconds(30),
            $"{count} messages on {destination}");

    public static async Task<HttpResponseMessage> PostMessageAsync(this HttpClient http, string queue, string body, string? idempotencyKey = null) =>
        await http.SendAsync(Post($"/api/queues/{queue}/messages", body, idempotencyKey));

    public static string SeedSample(string relativePath) => File.ReadAllText(O2X.Testing.RepositoryLayout.Sample(relativePath));

    /// <summary>The seed order for a new account, provisioned: the account has invoice <c>INV-{account}-0001</c> of 149.00 USD. Returns the order id.</summary>
    public static async Task<string> InvoicedAccountAsync(this HttpClient http, string account, string correlationId)
    {
        var order = SeedSample("oms/order-new.json").Replace("ACC-1001", account).Replace("SF-ORD-20240211-12345", correlationId);
        var accepted = await http.PostMessageAsync("OMS", order);
        if (accepted.StatusCode != System.Net.HttpStatusCode.Accepted)
            throw new InvalidOperationException($"order for {account}: {(int)accepted.StatusCode} {await accepted.Content.ReadAsStringAsync()}");
        var orderId = (await accepted.ReadJson())["result"]!["order_id"]!.GetValue<string>();
        var completed = await http.PostMessageAsync("PROVISIONING_RESPONSE", SeedSample("provisioning/response-completed.json").Replace("ORD-20240211-001", orderId));
        var invoice = (await completed.ReadJson())["result"]?["invoice_number"]?.GetValue<string>();
        return invoice == $"INV-{account}-0001" ? orderId : throw new InvalidOperationException($"{account} was not invoiced: {invoice}");
    }

    /// <summary>Waits until a bulk job has an outcome for every item; returns its stats.</summary>
    public static Task<JsonNode> BulkCompletedAsync(this HttpClient http, string jobId, TimeSpan? timeout = null) =>
        O2X.Testing.Eventually.ReturnsAsync(async () => await (await http.GetAsync($"/api/bulk/{jobId}")).ReadJson(),
            s => s["status"]?.GetValue<string>() == "COMPLETED", timeout ?? TimeSpan.FromSeconds(60), $"bulk job {jobId} completed");
}
