using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Accounts;
using O2X.Actors.Bulk;
using O2X.Actors.Messaging;
using O2X.Host.Hosting;
using O2X.Host.Bindings;

namespace O2X.Host.Apis;

/// <summary>
/// Bulk operations (seed §4.3). <c>POST /api/bulk</c> takes a whole job — <c>{id?, api_name, payloads[≤10,000], created_by?,
/// callback_url?}</c> — registers it and puts it on the BULK queue as messages of at most 100 items; 202 with the job's
/// status URL. Submitting the same id again (e.g. after a timeout) sends the job again and does nothing twice.
/// <c>GET /api/bulk</c> lists recent jobs, <c>GET /api/bulk/{id}</c> gives a job's bulk_action_stats while it runs,
/// <c>GET /api/bulk/{id}/items?status=failed</c> the items' outcomes with their reasons.
/// </summary>
internal static class BulkApi
{
    /// <summary>A bulk request may be larger than one message; it is split before it is queued.</summary>
    public const int MaxRequestBytes = 16 * 1024 * 1024;

    public sealed record Submitted(string JobId, BulkApiName ApiName, int TotalCount, IReadOnlyList<string> Messages, bool Resubmitted);

    public sealed record JobList(IReadOnlyList<BulkJobStats> Items);

    public sealed record ItemPage(string JobId, IReadOnlyList<BulkItemResult> Items, int NextAfter);

    private static readonly JsonDocumentOptions Reader = new() { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 32, AllowDuplicateProperties = false };

    public static IEndpointRouteBuilder MapBulkApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/bulk", Submit).AddEndpointFilter<JsonIngress>().WithName("SubmitBulkJob");
        app.MapGet("/api/bulk", List).WithName("ListBulkJobs");
        app.MapGet("/api/bulk/{jobId}", Get).WithName("GetBulkJob");
        app.MapGet("/api/bulk/{jobId}/items", Items).WithName("GetBulkJobItems");
        return app;
    }

    private static async Task<Results<Accepted<Submitted>, ProblemHttpResult>> Submit(
        HttpContext http, BulkStore store, QueueTargets targets, O2XSettings settings, CancellationToken ct)
    {
        if (http.Request.ContentLength > MaxRequestBytes || await IngestionApi.ReadBodyAsync(http.Request, MaxRequestBytes, ct) is not { } body)
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, "Bulk request too large",
                $"A bulk request may be at most {MaxRequestBytes} bytes; submit larger jobs in parts.", ErrorCodes.InvalidMessage);

        if (CardData.Find(body) is { } cardField)
            return Problems.Of(StatusCodes.Status400BadRequest, "Bulk request refused",
                $"Field '{TextExcerpt.Of(cardField, 128)}' looks like a payment card number; send the payment processor's token instead.",
                ErrorCodes.CardNumberNotAllowed);

        BulkJobDefinition job;
        JsonArray payloads;
        try
        {
            (job, payloads) = Read(body);
        }
        catch (NonRetryableException refused)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Bulk request refused", refused.Message, refused.ErrorCode);
        }

        var messages = BulkMessages.Split(job, payloads)
            .Select(m => new MessageEnvelope(m.MessageId, QueueNames.Bulk, job.JobId, MessageEnvelope.NoHeaders, Encoding.UTF8.GetBytes(m.Body.ToJsonString()),
                1, DateTimeOffset.UtcNow))
            .ToList();
        if (messages.FirstOrDefault(m => m.Body.Length > settings.Ingestion.MaxMessageBytes) is { } large)
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, "Bulk items too large",
                $"Message {large.MessageId} of the job would be {large.Body.Length} bytes, over the {settings.Ingestion.MaxMessageBytes}-byte message limit; " +
                "send large data by reference.", ErrorCodes.InvalidMessage);
        if (targets.For(QueueNames.Bulk) is not { } target)
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Bulk queue unavailable", $"Queue {QueueNames.Bulk} is not bound on this node.");

        var (registration, existing) = await store.RegisterAsync(job, ct);
        if (registration == BulkStore.Registration.Conflict)
            return Problems.Of(StatusCodes.Status409Conflict, "Bulk job id in use",
                $"Job {job.JobId} exists as {BulkApiNames.WireName(existing!.ApiName)} of {existing.TotalCount} items; use a new id.",
                ErrorCodes.BulkJobConflict);

        for (var i = 0; i < messages.Count; i++)
        {
            if (await target.RequeueAsync(messages[i], ct)) continue;
            http.Response.Headers.RetryAfter = settings.Ingestion.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Try again later",
                $"Queue {QueueNames.Bulk} took {i} of the job's {messages.Count} messages; submit the same request again (same id) to queue the rest — " +
                "items already done are not done again.", null, ("job_id", job.JobId));
        }

        return TypedResults.Accepted($"/api/bulk/{job.JobId}",
            new Submitted(job.JobId, job.Api, job.TotalCount, [.. messages.Select(m => m.MessageId)], registration == BulkStore.Registration.Existing));
    }

    private static (BulkJobDefinition Job, JsonArray Payloads) Read(byte[] body)
    {
        using var document = JsonMessageReader.ParseObject(body);
        var root = document.RootElement;
        var api = BulkMessages.ApiName(root);
        var count = BulkMessages.Payloads(root).GetArrayLength();
        if (count > BulkMessages.MaxItemsPerJob)
            throw new NonRetryableException(ErrorCodes.TooManyPayloads,
                $"A bulk request holds at most {BulkMessages.MaxItemsPerJob} items (this one has {count}); submit it as several jobs.");
        var id = JsonMessageReader.OptionalId(root, "id", "") ?? $"BULK-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8].ToUpperInvariant()}";
        var job = BulkMessages.Job(root, id, api, count);
        if (job.CreatedDate is null) job = job with { CreatedDate = DateTimeOffset.UtcNow };
        var payloads = JsonNode.Parse(root.GetProperty("payloads").GetRawText(), documentOptions: Reader)!.AsArray();
        return (job, payloads);
    }

    private static async Task<Ok<JobList>> List(BulkStore store, CancellationToken ct, int limit = 50) =>
        TypedResults.Ok(new JobList(await store.RecentAsync(Math.Clamp(limit, 1, 500), ct)));

    private static async Task<Results<Ok<BulkJobStats>, ProblemHttpResult>> Get(string jobId, BulkStore store, CancellationToken ct) =>
        await store.StatsAsync(jobId, ct) is { } stats ? TypedResults.Ok(stats) : NotFound(jobId);

    private static async Task<Results<Ok<ItemPage>, ProblemHttpResult>> Items(string jobId, BulkStore store, CancellationToken ct,
        string? status = null, int after = -1, int limit = 100)
    {
        if (after < -1 || limit is < 1 or > 1000)
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid paging", "'after' must be ≥ -1 and 'limit' between 1 and 1000.", ErrorCodes.InvalidField);
        BulkItemStatus? filter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<BulkItemStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
                return Problems.Of(StatusCodes.Status400BadRequest, "Invalid status", "'status' must be succeeded or failed.", ErrorCodes.InvalidField);
            filter = parsed;
        }

        if (await store.StatsAsync(jobId, ct) is null) return NotFound(jobId);
        var items = await store.ItemsAsync(jobId, filter, after, limit, ct);
        return TypedResults.Ok(new ItemPage(jobId, items, items.Count > 0 ? items[^1].Index : after));
    }

    private static ProblemHttpResult NotFound(string jobId) =>
        Problems.Of(StatusCodes.Status404NotFound, "Unknown bulk job", $"No bulk job '{Problems.Truncate(jobId)}'.");
}
