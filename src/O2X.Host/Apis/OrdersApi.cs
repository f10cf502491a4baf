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

/// <summary>
/// <c>GET /api/orders/{id}</c>: an order's current state and timeline, read from its entity; <c>GET /api/orders?correlation_id=</c>.
/// Administrative: <c>GET /api/orders/stuck</c> and, for a STUCK order, <c>POST …/provisioning/retry</c> and <c>…/provisioning/fail</c>.
/// </summary>
internal static class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/orders/{orderId}", GetOrder).WithName("GetOrder");
        app.MapGet("/api/orders", Search).WithName("SearchOrders");
        var provisioning = app.MapGroup("/api/orders").AddEndpointFilter<AdminAccess>();
        provisioning.MapGet("/stuck", Stuck).WithName("StuckOrders");
        provisioning.MapPost("/{orderId}/provisioning/retry", Retry).WithName("RetryProvisioning");
        provisioning.MapPost("/{orderId}/provisioning/fail", Fail).AddEndpointFilter<JsonIngress>().WithName("FailProvisioning");
        return app;
    }

    public const int MaxRequestBytes = 4096;

    public sealed record StuckOrder(string OrderId, string AccountId, string RequestId, DateTimeOffset RequestedAt, DateTimeOffset StuckAt);

    public sealed record StuckList(TimeSpan ProvisioningTimeout, IReadOnlyList<StuckOrder> Items);

    /// <summary><c>GET /api/orders/stuck</c>: orders whose provisioning did not answer within <c>O2X:Orders:ProvisioningTimeout</c>, longest first.</summary>
    private static async Task<Ok<StuckList>> Stuck(ProvisioningWatchStore watch, O2XSettings settings, CancellationToken ct, int limit = 200) =>
        TypedResults.Ok(new StuckList(settings.Orders.ProvisioningTimeout, (await watch.StuckAsync(Math.Clamp(limit, 1, 1000), ct))
            .Select(w => new StuckOrder(w.OrderId, w.AccountId, w.RequestId, w.RequestedAt, w.StuckAt!.Value)).ToList()));

    /// <summary><c>POST /api/orders/{id}/provisioning/retry</c>: a STUCK order's provisioning is requested again under a new request id.</summary>
    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Retry(string orderId, HttpContext http, ActorRegistry registry,
        O2XSettings settings, CancellationToken ct)
    {
        if (!EntityIds.IsValid(orderId)) return Problems.BadId("order id", orderId);
        return await Operate(() => Operations(registry, settings).RetryAsync(orderId, OperatorOf(http), ct));
    }

    /// <summary><c>POST /api/orders/{id}/provisioning/fail</c> <c>{"reason": "…"}</c>: a STUCK order is failed (PROVISIONING_TIMEOUT).</summary>
    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Fail(string orderId, HttpContext http, ActorRegistry registry,
        O2XSettings settings, CancellationToken ct)
    {
        if (!EntityIds.IsValid(orderId)) return Problems.BadId("order id", orderId);
        if (http.Request.ContentLength > MaxRequestBytes || await IngestionApi.ReadBodyAsync(http.Request, MaxRequestBytes, ct) is not { } body)
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, "Request too large", $"A request is at most {MaxRequestBytes} bytes.",
                ErrorCodes.InvalidMessage);
        string reason;
        try
        {
            using var document = JsonMessageReader.ParseObject(body);
            reason = JsonMessageReader.RequiredString(document.RootElement, "reason", "", 500);
            if (reason.Any(char.IsControl)) throw new NonRetryableException(ErrorCodes.InvalidField, "reason: must not contain control characters");
            if (CardData.Find(body) is not null)
                throw new NonRetryableException(ErrorCodes.CardNumberNotAllowed, "reason: must not contain a payment card number (it would be kept in the order's history)");
        }
        catch (NonRetryableException refused)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Request refused", refused.Message, refused.ErrorCode);
        }

        return await Operate(() => Operations(registry, settings).FailAsync(orderId, OperatorOf(http), reason, ct));
    }

    private static ProvisioningOperations Operations(ActorRegistry registry, O2XSettings settings) =>
        new(registry.Get<OrderRegion>(), registry.Get<AccountRegion>(), settings.Entities.AskTimeout);

    /// <summary>Who acted, for the order's timeline: the admin listener's caller address (no names are configured).</summary>
    private static string OperatorOf(HttpContext http) => "operator at " + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown address");

    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Operate(Func<Task<OrderView>> operation)
    {
        try
        {
            return TypedResults.Ok(await operation());
        }
        catch (NonRetryableException refused)
        {
            var status = refused.ErrorCode == ErrorCodes.OrderNotFound ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict;
            return Problems.Of(status, "Order not changed", refused.Message, refused.ErrorCode);
        }
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
