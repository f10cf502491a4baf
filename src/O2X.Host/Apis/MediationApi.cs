using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Usage;

namespace O2X.Host.Apis;

/// <summary>
/// <c>GET /api/mediation</c>: recent jobs, newest first; <c>GET /api/mediation/{jobId}</c>: a mediation job's progress and outcome (job id = the MEDIATION message id);
/// <c>GET /api/mediation/{jobId}/rejections?after=&amp;limit=</c>: the rows it refused, with row number and reason.
/// </summary>
internal static class MediationApi
{
    public sealed record JobList(IReadOnlyList<MediationJob> Items);

    public sealed record RejectionPage(string JobId, IReadOnlyList<UsageRejection> Items, long NextAfter);

    public static IEndpointRouteBuilder MapMediationApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/mediation", async (UsageStore store, CancellationToken ct, int limit = 50) =>
            TypedResults.Ok(new JobList(await store.RecentAsync(Math.Clamp(limit, 1, 500), ct)))).WithName("ListMediationJobs");
        app.MapGet("/api/mediation/{jobId}", Get).WithName("GetMediationJob");
        app.MapGet("/api/mediation/{jobId}/rejections", Rejections).WithName("GetMediationRejections");
        app.MapGet("/api/usage/accumulators/{accountId}", Accumulators).WithName("GetUsageAccumulators");
        return app;
    }

    private static async Task<Results<Ok<MediationJob>, ProblemHttpResult>> Get(string jobId, UsageStore store, CancellationToken ct) =>
        await store.GetAsync(jobId, ct) is { } job ? TypedResults.Ok(job) : NotFound(jobId);

    private static async Task<Results<Ok<RejectionPage>, ProblemHttpResult>> Rejections(string jobId, UsageStore store, CancellationToken ct,
        long after = 0, int limit = 100)
    {
        if (after < 0 || limit is < 1 or > 1000)
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid paging", "'after' must be ≥ 0 and 'limit' between 1 and 1000.", "INVALID_FIELD");
        if (await store.GetAsync(jobId, ct) is null) return NotFound(jobId);
        var items = await store.RejectionsAsync(jobId, after, limit, ct);
        return TypedResults.Ok(new RejectionPage(jobId, items, items.Count > 0 ? items[^1].RowNumber : after));
    }

    /// <summary><c>GET /api/usage/accumulators/{accountId}</c>: rated usage per month and service.</summary>
    private static async Task<Ok<IReadOnlyList<UsageAccumulator>>> Accumulators(string accountId, UsageRater rater, CancellationToken ct) =>
        TypedResults.Ok(await rater.AccumulatorsAsync(accountId, ct));

    private static ProblemHttpResult NotFound(string jobId) =>
        Problems.Of(StatusCodes.Status404NotFound, "Unknown mediation job", $"No mediation job '{Problems.Truncate(jobId)}'.");
}
