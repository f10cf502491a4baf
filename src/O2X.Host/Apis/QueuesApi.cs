using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Hosting;
using O2X.Host.Hosting;
using O2X.Host.Bindings;
using O2X.Host.Observability;

namespace O2X.Host.Apis;

/// <summary>
/// <c>GET /api/queues</c> and <c>GET /api/queues/{queue}</c> (loopback or admin token): each bound queue's
/// transport and address, handler, broker connection and circuit-breaker state, and its message counters on this node.
/// </summary>
internal static class QueuesApi
{
    public sealed record QueueView(
        string Queue, bool Enabled, string Transport, string? Address, string? Handler, string? Connection, int Reconnects, string Breaker,
        string? ErrorDestination, string? DeadLetterDestination, QueueCounters Counters, long? Depth, long? Consumers, long? Lag,
        long? Enqueued, long? Dequeued);

    /// <summary><c>GET /api/queues/history</c>: the last 15 minutes of counters, every 5 s, and one sample taken now.</summary>
    public sealed record History(int IntervalSeconds, IReadOnlyList<HistorySample> Samples);

    public static IEndpointRouteBuilder MapQueuesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/queues").AddEndpointFilter<AdminAccess>();
        group.MapGet("/", List).WithName("ListQueues");
        group.MapGet("/history", (QueueHistory history) => TypedResults.Ok(new History((int)QueueHistory.Interval.TotalSeconds, history.Samples())))
            .WithName("QueueHistory");
        group.MapGet("/{queue}", Show).WithName("ShowQueue");
        return app;
    }

    private static Ok<IReadOnlyList<QueueView>> List(O2XSettings settings, BrokerTransports transports, BrokerBindings brokers, BindingBreakers breakers,
        O2XMetrics metrics) =>
        TypedResults.Ok<IReadOnlyList<QueueView>>(settings.Bindings.Keys.Order(StringComparer.Ordinal)
            .Select(q => View(q, settings, transports, brokers, breakers, metrics)).ToList());

    private static Results<Ok<QueueView>, ProblemHttpResult> Show(string queue, O2XSettings settings, BrokerTransports transports, BrokerBindings brokers,
        BindingBreakers breakers, O2XMetrics metrics) =>
        settings.Bindings.ContainsKey(queue)
            ? TypedResults.Ok(View(queue, settings, transports, brokers, breakers, metrics))
            : Problems.Of(StatusCodes.Status404NotFound, "Unknown queue",
                $"No queue '{Problems.Truncate(queue)}'. Known: {string.Join(", ", settings.Bindings.Keys.Order(StringComparer.Ordinal))}.");

    private static QueueView View(string queue, O2XSettings settings, BrokerTransports transports, BrokerBindings brokers, BindingBreakers breakers,
        O2XMetrics metrics)
    {
        var binding = settings.Bindings[queue];
        var running = brokers.Running.GetValueOrDefault(queue);
        var status = running?.Control.Status.Snapshot;
        var broker = metrics.BrokerSideOf(queue);
        return new QueueView(
            queue,
            binding.Enabled,
            binding.Transport.ToString(),
            binding.Transport == TransportKind.Embedded ? null : transports.AddressOf(binding.Transport, queue, binding.Address),
            binding.Handler,
            status?.State.ToString(),
            status?.Reconnects ?? 0,
            breakers.All.TryGetValue(queue, out var breaker) ? breaker.State.ToString() : "None",
            binding.ErrorDestination,
            binding.DeadLetterDestination,
            metrics.Snapshot(queue),
            broker?.Depth,
            broker?.Consumers,
            broker?.Lag,
            broker?.Enqueued,
            broker?.Dequeued);
    }
}
