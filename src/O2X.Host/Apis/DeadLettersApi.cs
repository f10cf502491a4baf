using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Messaging.DeadLetters;
using O2X.Actors.Persistence;

namespace O2X.Host.Apis;

/// <summary>
/// Operators repair dead letters (seed §9.1 issue 2): browse and filter them, look at one, requeue one or all
/// matching a filter to their original queue (fresh retry budget), purge one with a reason. Administrative:
/// loopback or bearer token only.
/// </summary>
internal static class DeadLettersApi
{
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapDeadLettersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/deadletters").AddEndpointFilter<AdminAccess>();
        group.MapGet("/", List).WithName("ListDeadLetters");
        group.MapGet("/{id:long}", Get).WithName("GetDeadLetter");
        group.MapPost("/{id:long}/requeue", Requeue).WithName("RequeueDeadLetter");
        group.MapPost("/requeue", RequeueMatching).WithName("RequeueDeadLetters");
        group.MapDelete("/{id:long}", Purge).WithName("PurgeDeadLetter");
        group.MapPost("/import", Import).WithName("ImportBrokerDeadLetters");
        return app;
    }

    public sealed record Summary(
        long Id, string Queue, string MessageId, string? CorrelationId, int Attempts, DateTime FirstFailure, DateTime LastFailure,
        string ExceptionType, string ExceptionMessage, string Status, string? StatusReason, int RequeueCount, DateTime UpdatedAt, int BodyBytes);

    public sealed record Detail(Summary DeadLetter, IReadOnlyDictionary<string, string> Headers, string Body, string BodyEncoding);

    public sealed record Page(IReadOnlyList<Summary> Items, long NextAfter);

    public sealed record StatusChange(long Id, string Status);

    public sealed record BulkRequeue(int Requeued, int Skipped, IReadOnlyList<long> SkippedIds);

    private static async Task<Results<Ok<Page>, ProblemHttpResult>> List(
        DeadLetterStore store, CancellationToken ct, string? queue = null, string? status = null, string? error = null,
        DateTime? from = null, DateTime? to = null, long after = 0, int limit = 100)
    {
        if (Filter(queue, status, error, from, to) is not { } filter)
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid filter", $"'status' must be one of {StatusNames}.", "INVALID_FIELD");
        if (after < 0 || limit is < 1 or > MaxLimit)
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid paging", $"'after' must be ≥ 0 and 'limit' between 1 and {MaxLimit}.", "INVALID_FIELD");
        var letters = await store.QueryAsync(filter, after, limit, ct);
        return TypedResults.Ok(new Page([.. letters.Select(ToSummary)], letters.Count > 0 ? letters[^1].Id : after));
    }

    private static async Task<Results<Ok<Detail>, ProblemHttpResult>> Get(long id, DeadLetterStore store, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is not { } letter) return NotFound(id);
        var utf8 = System.Text.Unicode.Utf8.IsValid(letter.Body);
        return TypedResults.Ok(new Detail(ToSummary(letter), letter.Headers,
            utf8 ? Encoding.UTF8.GetString(letter.Body) : Convert.ToBase64String(letter.Body), utf8 ? "utf-8" : "base64"));
    }

    private static async Task<Results<Accepted<StatusChange>, ProblemHttpResult>> Requeue(long id, DeadLetterRequeuer requeuer, CancellationToken ct) =>
        await requeuer.RequeueAsync(id, ct) switch
        {
            RequeueResult.Requeued => TypedResults.Accepted((string?)null, new StatusChange(id, "REQUEUED")),
            RequeueResult.NotFound => NotFound(id),
            RequeueResult.NotRequeueable => Problems.Of(StatusCodes.Status409Conflict, "Not requeueable",
                $"Dead letter {id} was already requeued or purged.", "DEAD_LETTER_NOT_REQUEUEABLE"),
            _ => Problems.Of(StatusCodes.Status503ServiceUnavailable, "Queue unavailable",
                $"The queue of dead letter {id} did not accept it (not bound on this node, or full); it stays dead.", "QUEUE_UNAVAILABLE"),
        };

    /// <summary>Requeues every DEAD letter matching the filter (at most <paramref name="limit"/>).</summary>
    private static async Task<Results<Ok<BulkRequeue>, ProblemHttpResult>> RequeueMatching(
        DeadLetterStore store, DeadLetterRequeuer requeuer, CancellationToken ct, string? queue = null, string? error = null,
        DateTime? from = null, DateTime? to = null, int limit = MaxLimit)
    {
        if (limit is < 1 or > MaxLimit)
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid limit", $"'limit' must be between 1 and {MaxLimit}.", "INVALID_FIELD");
        var letters = await store.QueryAsync(new DeadLetterFilter(queue, DeadLetterStatus.Dead, error, from, to), 0, limit, ct);
        var skipped = new List<long>();
        foreach (var letter in letters)
            if (await requeuer.RequeueAsync(letter.Id, ct) != RequeueResult.Requeued) skipped.Add(letter.Id);
        return TypedResults.Ok(new BulkRequeue(letters.Count - skipped.Count, skipped.Count, skipped));
    }

    /// <summary>
    /// Migration aid: moves up to <paramref name="limit"/> messages of ActiveMQ's DLQ (<paramref name="source"/>, default
    /// <c>ActiveMQ.DLQ</c>) into the dead-letter store; stops when the DLQ stays empty for three seconds.
    /// </summary>
    private static async Task<Results<Ok<O2X.Host.Bindings.BrokerDeadLetterImport.Result>, ProblemHttpResult>> Import(
        O2X.Host.Bindings.BrokerDeadLetterImport import, CancellationToken ct, string source = "ActiveMQ.DLQ", int limit = MaxLimit)
    {
        if (limit is < 1 or > MaxLimit)
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid limit", $"'limit' must be between 1 and {MaxLimit}.", "INVALID_FIELD");
        if (!System.Text.RegularExpressions.Regex.IsMatch(source, @"\A[A-Za-z0-9_.\-]{1,200}\z"))
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid source", "'source' is a queue name: letters, digits, '.', '_' and '-'.", "INVALID_FIELD");
        try
        {
            return TypedResults.Ok(await import.ImportAsync(source, limit, TimeSpan.FromSeconds(3), ct));
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "No broker", ex.Message, "NO_BROKER");
        }
        catch (O2X.Streams.Stomp.StompConnectionException ex)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Broker unavailable", ex.Message, "BROKER_UNAVAILABLE");
        }
    }

    private static async Task<Results<Ok<StatusChange>, ProblemHttpResult>> Purge(long id, DeadLetterStore store, CancellationToken ct, string? reason = null)
    {
        if (string.IsNullOrWhiteSpace(reason))
            return Problems.Of(StatusCodes.Status400BadRequest, "Reason required", "Purging a dead letter needs '?reason=…' (kept for audit).", "MISSING_FIELD");
        if (await store.GetAsync(id, ct) is null) return NotFound(id);
        return await store.PurgeAsync(id, reason.Trim(), ct)
            ? TypedResults.Ok(new StatusChange(id, "PURGED"))
            : Problems.Of(StatusCodes.Status409Conflict, "Not purgeable", $"Dead letter {id} is already purged or being requeued.", "DEAD_LETTER_NOT_PURGEABLE");
    }

    private static readonly string StatusNames = string.Join(", ", Enum.GetNames<DeadLetterStatus>().Select(n => n.ToUpperInvariant()));

    private static DeadLetterFilter? Filter(string? queue, string? status, string? error, DateTime? from, DateTime? to)
    {
        DeadLetterStatus? parsed = null;
        if (status is not null)
        {
            if (!Enum.TryParse<DeadLetterStatus>(status, ignoreCase: true, out var s) || int.TryParse(status, out _)) return null;
            parsed = s;
        }

        return new DeadLetterFilter(queue, parsed, error, from?.ToUniversalTime(), to?.ToUniversalTime());
    }

    private static ProblemHttpResult NotFound(long id) =>
        Problems.Of(StatusCodes.Status404NotFound, "Dead letter not found", $"No dead letter {id}.", "DEAD_LETTER_NOT_FOUND");

    private static Summary ToSummary(DeadLetterRecord d) => new(d.Id, d.Queue, d.MessageId, d.CorrelationId, d.Attempts, d.FirstFailure, d.LastFailure,
        d.ExceptionType, d.ExceptionMessage, d.Status.ToString().ToUpperInvariant(), d.StatusReason, d.RequeueCount, d.UpdatedAt, d.Body.Length);
}
