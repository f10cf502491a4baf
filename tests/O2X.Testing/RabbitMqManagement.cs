using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace O2X.Testing;

/// <summary>The RabbitMQ management HTTP API: queue depths as the broker sees them, and cleanup.</summary>
public sealed class RabbitMqManagement : IDisposable
{
    private readonly HttpClient _http;

    public RabbitMqManagement(Uri managementUri)
    {
        var credentials = Uri.UnescapeDataString(managementUri.UserInfo);
        _http = new HttpClient { BaseAddress = new Uri(managementUri.GetLeftPart(UriPartial.Authority) + "/") };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
    }

    public static RabbitMqManagement Shared() => new(TestServices.RabbitMqManagementUri);

    /// <summary>Ready and unacknowledged message counts (the management API refreshes them every few seconds).</summary>
    public async Task<(long Ready, long Unacknowledged)> QueueDepthAsync(string queue)
    {
        var json = JsonNode.Parse(await _http.GetStringAsync($"api/queues/%2F/{Uri.EscapeDataString(queue)}"))!;
        return ((long?)json["messages_ready"] ?? 0, (long?)json["messages_unacknowledged"] ?? 0);
    }

    /// <summary>
    /// The queue as the broker describes it — depths, consumers and each consumer's channel — for a test's failure message: a
    /// timeout that says what the broker held tells a lost message from one parked with another consumer.
    /// </summary>
    public async Task<string> DescribeQueueAsync(string queue)
    {
        try
        {
            var json = JsonNode.Parse(await _http.GetStringAsync($"api/queues/%2F/{Uri.EscapeDataString(queue)}"))!;
            var consumers = (json["consumer_details"] as JsonArray ?? []).Select(c =>
                $"{c?["consumer_tag"]} on {c?["channel_details"]?["name"]} (prefetch {c?["prefetch_count"]}, active {c?["active"]})");
            return $"queue {queue}: type {json["type"]}, ready {json["messages_ready"]}, unacknowledged {json["messages_unacknowledged"]}, " +
                   $"consumers {json["consumers"]} [{string.Join("; ", consumers)}]";
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException)
        {
            return $"queue {queue}: the management API did not describe it ({ex.Message})";
        }
    }

    /// <summary>Publishes through the management API (a client we did not write).</summary>
    public async Task PublishAsync(string queue, string body, string? messageId = null)
    {
        var request = new JsonObject
        {
            ["properties"] = messageId is null ? new JsonObject() : new JsonObject { ["message_id"] = messageId },
            ["routing_key"] = queue,
            ["payload"] = body,
            ["payload_encoding"] = "string",
        };
        var response = await _http.PostAsync("api/exchanges/%2F/amq.default/publish", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        var routed = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["routed"]!.GetValue<bool>();
        if (!routed) throw new InvalidOperationException($"The broker did not route the message to queue {queue}.");
    }

    public async Task DeleteQueueAsync(string queue) => await _http.DeleteAsync($"api/queues/%2F/{Uri.EscapeDataString(queue)}");

    public void Dispose() => _http.Dispose();
}
