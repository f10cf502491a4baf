using O2X.Host.Observability;

namespace O2X.Host.Apis;

/// <summary><c>GET /metrics</c>: Prometheus text exposition of <see cref="O2XMetrics"/>; loopback or admin token, like every admin endpoint.</summary>
internal static class MetricsApi
{
    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (HttpContext context, O2XMetrics metrics) =>
            {
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
            })
            .AddEndpointFilter<AdminAccess>()
            .WithName("Metrics");
        return app;
    }
}
