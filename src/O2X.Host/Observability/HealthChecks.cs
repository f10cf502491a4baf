using System.Text.Json;
using Akka.Hosting;
using LinqToDB.Async;
using LinqToDB.Data;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using O2X.Actors.Persistence;
using O2X.Actors.Sharding;
using O2X.Host.Bindings;
using O2X.Actors.Messaging.Bindings;
using O2X.Streams.Connectors;

namespace O2X.Host.Observability;

/// <summary>
/// <c>/health/live</c>: the actor system runs. <c>/health/ready</c>: this node is Up in the cluster, its shard
/// regions started, the journal's database answers a read-only probe, every broker source is connected and no
/// circuit breaker is open. Both answer JSON naming each check; 503 when not healthy. Descriptions never carry
/// connection strings or credentials.
/// </summary>
internal static class O2XHealthChecks
{
    public const string Live = "live";
    public const string Ready = "ready";

    public static IHealthChecksBuilder AddO2XHealthChecks(this IServiceCollection services, ILoggingBuilder logging)
    {
        // ASP.NET logs every unhealthy check at error level on every poll (a load balancer polls every few seconds);
        // O2X logs the transitions instead (HealthTransitions).
        logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.Critical);
        services.AddSingleton<HealthTransitions>();
        return services.AddHealthChecks()
            .AddCheck<JournalProbe>("journal", tags: [Ready], timeout: TimeSpan.FromSeconds(5))
            .AddCheck<ShardRegionsStarted>("shard-regions", tags: [Ready])
            .AddCheck<BrokerConnections>("broker-connections", tags: [Ready])
            .AddCheck<CircuitBreakers>("circuit-breakers", tags: [Ready]);
    }

    public static IEndpointRouteBuilder MapO2XHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = c => c.Tags.Contains(Live), ResponseWriter = WriteJson });
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteJson });
        return app;
    }

    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.RequestServices.GetRequiredService<HealthTransitions>().Observe(report);
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.Select(e => new
            {
                name = e.Key,
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.Message,
                duration_ms = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
                data = e.Value.Data.Count == 0 ? null : e.Value.Data,
            }),
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, cancellationToken: context.RequestAborted);
    }

    /// <summary>Logs each check's change of status once (warning when it turns unhealthy, information when it recovers).</summary>
    internal sealed class HealthTransitions(ILogger<HealthTransitions> logger)
    {
        private readonly Dictionary<string, HealthStatus> _last = new(StringComparer.Ordinal);

        public void Observe(HealthReport report)
        {
            lock (_last)
            {
                foreach (var (name, entry) in report.Entries)
                {
                    var before = _last.TryGetValue(name, out var status) ? status : HealthStatus.Healthy;
                    _last[name] = entry.Status;
                    if (before == entry.Status) continue;
                    var description = entry.Description ?? entry.Exception?.Message;
                    if (entry.Status == HealthStatus.Healthy)
                        logger.LogInformation("Health check {Check} is healthy again (was {Before})", name, before);
                    else
                        logger.LogWarning("Health check {Check} is {Status}: {Description}", name, entry.Status, description);
                }
            }
        }
    }

    /// <summary>A read-only round trip to the database holding the journal.</summary>
    private sealed class JournalProbe(O2XDatabase database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var db = await database.OpenAsync(cancellationToken);
                await db.ExecuteAsync<int>("SELECT 1", cancellationToken);
                return HealthCheckResult.Healthy($"{database.Provider} answers");
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"{database.Provider} does not answer: {ex.GetType().Name}");
            }
        }
    }

    private sealed class ShardRegionsStarted(IServiceProvider services) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var registry = services.GetService<IReadOnlyActorRegistry>();
            var started = registry is not null && registry.TryGet<OrderRegion>(out _) && registry.TryGet<AccountRegion>(out _);
            return Task.FromResult(started ? HealthCheckResult.Healthy("order and account regions started")
                : HealthCheckResult.Unhealthy("shard regions not started yet"));
        }
    }

    private sealed class BrokerConnections(BrokerBindings brokers) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var states = brokers.Running.ToDictionary(b => b.Key, b => (object)b.Value.Control.Status.State.ToString());
            var down = brokers.Running.Where(b => b.Value.Control.Status.State != ConnectionState.Connected).Select(b => b.Key).Order().ToList();
            if (brokers.Running.Count == 0) return Task.FromResult(HealthCheckResult.Healthy("no broker-bound queues"));
            return Task.FromResult(down.Count == 0
                ? HealthCheckResult.Healthy("all broker sources connected", states)
                : HealthCheckResult.Unhealthy("not connected: " + string.Join(", ", down), data: states));
        }
    }

    private sealed class CircuitBreakers(BindingBreakers breakers) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var states = breakers.All.ToDictionary(b => b.Key, b => (object)b.Value.State.ToString());
            var open = breakers.All.Where(b => b.Value.State != BreakerState.Closed).Select(b => b.Key).Order().ToList();
            return Task.FromResult(open.Count == 0
                ? HealthCheckResult.Healthy("all closed", states)
                : HealthCheckResult.Unhealthy("open: " + string.Join(", ", open), data: states));
        }
    }
}
