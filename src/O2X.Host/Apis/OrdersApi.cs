using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Messaging;
using O2X.Actors.Messaging.Outbox;
using O2X.Actors.Persistence;
using O2X.Actors.Orders;
using O2X.Actors.Sharding;
using O2X.Host.Hosting;

namespace O2X.Host.Apis;

/// <summary><c>GET /api/orders/{id}</c>: an order's current state and timeline, read from its entity.</summary>
internal static class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/orders/{orderId}", GetOrder).WithName("GetOrder");
        app.MapGet("/api/orders", Search).WithName("SearchOrders");
        return app;
    }

    public sealed record OrderRef(string OrderId, string? AccountId);

    public sealed record SearchResult(string CorrelationId, IReadOnlyList<OrderRef> Items);

    /// <summary>
    /// <c>GET /api/orders?correlation_id=…</c>: the orders received under a correlation id (e.g. Salesforce's order id), found
    /// through the OMS responses sent for them.
    /// </summary>
    private static async Task<Results<Ok<SearchResult>, ProblemHttpResult>> Search(OutboxStore outbox, CancellationToken ct, string? correlation_id = null)
    {
        if (string.IsNullOrWhiteSpace(correlation_id) || correlation_id.Length > 256)
            return Problems.Of(StatusCodes.Status400BadRequest, "Correlation id required", "Search with '?correlation_id=…' (1-256 characters).",
                ErrorCodes.MissingField);
        var found = new List<OrderRef>();
        foreach (var payload in await outbox.PayloadsByCorrelationAsync(Destinations.OmsResponse, correlation_id, 100, ct))
        {
            using var json = System.Text.Json.JsonDocument.Parse(payload);
            if (json.RootElement.TryGetProperty("order_id", out var id) && id.GetString() is { } orderId && found.All(o => o.OrderId != orderId))
                found.Add(new OrderRef(orderId, json.RootElement.TryGetProperty("account_id", out var a) ? a.GetString() : null));
        }

        return TypedResults.Ok(new SearchResult(correlation_id, found));
    }

    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> GetOrder(
        string orderId, IRequiredActor<OrderRegion> orders, O2XSettings settings, CancellationToken ct)
    {
        if (!EntityIds.IsValid(orderId)) return Problems.BadId("order id", orderId);
        var reply = await orders.ActorRef.Ask<object>(new GetOrder(orderId), settings.Entities.AskTimeout, ct);
        return reply switch
        {
            OrderView view => TypedResults.Ok(view),
            EntityNotFound => Problems.Of(StatusCodes.Status404NotFound, "Order not found", $"No order {orderId}.", ErrorCodes.OrderNotFound),
            _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name} to {nameof(GetOrder)}"),
        };
    }
}
