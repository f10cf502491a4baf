using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Persistence;

namespace O2X.Host.Apis;

/// <summary>
/// <c>GET /api/outbox/{destination}?after=&amp;limit=</c>: the outbound messages of a destination
/// (OMS_ARCHIVE, OMS_RESPONSE, OMS_ERROR, PROVISIONING_REQUEST, and the bindings' dead-letter destinations such as OMS.DLQ) in the order they were produced. On the
/// embedded default this is where outbound messages go; page with <c>after = next_after</c>.
/// </summary>
internal static class OutboxApi
{
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapOutboxApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/outbox/{destination}", GetMessages).WithName("GetOutboxMessages");
        return app;
    }

    public sealed record OutboxPage(string Destination, IReadOnlyList<OutboxItem> Items, long NextAfter);

    public sealed record OutboxItem(
        long Position, string MessageId, string? CorrelationId, DateTime CreatedAt, IReadOnlyDictionary<string, string> Headers, JsonNode? Payload);

    private static async Task<Results<Ok<OutboxPage>, ProblemHttpResult>> GetMessages(
        string destination, OutboxStore store, O2X.Host.Hosting.O2XSettings settings, CancellationToken ct, long after = 0, int limit = 100)
    {
        if (!settings.OutboundDestinations.Contains(destination))
            return Problems.Of(StatusCodes.Status404NotFound, "Unknown destination",
                $"No outbound destination '{Problems.Truncate(destination)}'. Known: {string.Join(", ", settings.OutboundDestinations.Order())}.");
        if (after < 0 || limit is < 1 or > MaxLimit)
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid paging", $"'after' must be ≥ 0 and 'limit' between 1 and {MaxLimit}.", "INVALID_FIELD");

        var messages = await store.ReadAsync(destination, after, limit, ct);
        var items = messages.Select(m => new OutboxItem(m.Position, m.MessageId, m.CorrelationId, m.CreatedAt, m.Headers, PayloadOf(m.Payload))).ToList();
        return TypedResults.Ok(new OutboxPage(destination, items, items.Count > 0 ? items[^1].Position : after));
    }

    /// <summary>JSON payloads are shown as JSON; anything else (an archived non-JSON message) as a string.</summary>
    private static JsonNode? PayloadOf(string payload)
    {
        try
        {
            return JsonNode.Parse(payload, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException)
        {
            return JsonValue.Create(payload);
        }
    }
}
