using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;
using O2X.Actors.Sharding;
using O2X.Host.Hosting;

namespace O2X.Host.Apis;

/// <summary><c>GET /api/orders/{id}</c>: an order's current state and timeline, read from its entity.</summary>
public static class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/orders/{orderId}", GetOrder).WithName("GetOrder");
        return app;
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
