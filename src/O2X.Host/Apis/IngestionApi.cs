using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Messaging;
using O2X.Host.Hosting;
using O2X.Host.Bindings;

namespace O2X.Host.Apis;

/// <summary>
/// <c>POST /api/queues/{queue}/messages</c>: the embedded transport. The answer comes once the effect is
/// durable: 202 with the message id; 400/422 Problem Details when the message is refused (it never will
/// succeed); 404 unknown queue; 413 over the size limit; 503 + Retry-After when saturated or when the
/// effect could not be confirmed in time (retry with the same <c>Idempotency-Key</c>: it will not apply twice).
/// </summary>
internal static partial class IngestionApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string MessageIdHeader = "X-Message-Id";
    public const string CorrelationIdHeader = "X-Correlation-Id";

    /// <summary>Codes that mean "the request itself is malformed" (400); other refusals are business rules (422).</summary>
    private static readonly HashSet<string> MalformedCodes =
        [
            ErrorCodes.InvalidMessage, ErrorCodes.MissingField, ErrorCodes.InvalidField, ErrorCodes.CardNumberNotAllowed, ErrorCodes.UnknownApiName,
            ErrorCodes.EmptyPayloads, ErrorCodes.TooManyPayloads, ErrorCodes.LocationNotAllowed,
        ];

    [GeneratedRegex("^[\\x21-\\x7E]{1,128}\\z")]
    private static partial Regex HeaderIdPattern();

    public static IEndpointRouteBuilder MapIngestionApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/queues/{queue}/messages", PostMessage).AddEndpointFilter<JsonIngress>().WithName("PostQueueMessage");
        return app;
    }

    public sealed record Accepted(string MessageId, string Queue, string Status, IReadOnlyDictionary<string, string> Result);

    private static async Task<Results<Accepted<Accepted>, ProblemHttpResult>> PostMessage(
        string queue, HttpContext http, IngestionQueues queues, O2XSettings settings, CancellationToken ct)
    {
        var ingestion = settings.Ingestion;
        if (!queues.TryGet(queue, out var target))
            return Problems.Of(StatusCodes.Status404NotFound, "Unknown queue",
                $"No queue named '{Problems.Truncate(queue)}' accepts messages on this node. Known: {string.Join(", ", queues.Names)}.");

        var request = http.Request;
        if (request.ContentLength > ingestion.MaxMessageBytes) return TooLarge(ingestion.MaxMessageBytes);

        var messageId = FirstHeader(request, IdempotencyKeyHeader) ?? FirstHeader(request, MessageIdHeader);
        if (messageId is not null && !HeaderIdPattern().IsMatch(messageId))
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid message id",
                $"{IdempotencyKeyHeader}/{MessageIdHeader} must be 1-128 visible ASCII characters.", ErrorCodes.InvalidField);
        var correlationId = FirstHeader(request, CorrelationIdHeader);
        if (correlationId is not null && !HeaderIdPattern().IsMatch(correlationId))
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid correlation id",
                $"{CorrelationIdHeader} must be 1-128 visible ASCII characters.", ErrorCodes.InvalidField);

        var body = await ReadBodyAsync(request, ingestion.MaxMessageBytes, ct);
        if (body is null) return TooLarge(ingestion.MaxMessageBytes);
        if (body.Length == 0)
            return Problems.Of(StatusCodes.Status400BadRequest, "Empty message", "The request body must be a JSON message.", ErrorCodes.InvalidMessage);

        var envelope = new MessageEnvelope(
            messageId ?? Guid.NewGuid().ToString("N"),
            queue,
            correlationId,
            MessageEnvelope.NoHeaders,
            body,
            DeliveryCount: 1,
            DateTimeOffset.UtcNow);

        var handling = target.TryEnqueue(envelope);
        if (handling is null) return Saturated(http, ingestion, $"Queue {queue} is full; retry later.");

        HandlingOutcome outcome;
        try
        {
            outcome = await handling.WaitAsync(ingestion.ResponseTimeout, ct);
        }
        catch (TimeoutException)
        {
            return Saturated(http, ingestion,
                $"Message {envelope.MessageId} was queued but its effect was not confirmed within {ingestion.ResponseTimeout.TotalSeconds:0} s; retry with the same {IdempotencyKeyHeader}.",
                ("message_id", envelope.MessageId));
        }

        return outcome switch
        {
            HandlingOutcome.Processed or HandlingOutcome.Duplicate => TypedResults.Accepted(
                outcome.Facts.TryGetValue("orderId", out var orderId) ? $"/api/orders/{orderId}" : (string?)null,
                new Accepted(envelope.MessageId, queue, outcome is HandlingOutcome.Duplicate ? "duplicate" : "processed", outcome.Facts)),
            HandlingOutcome.Rejected rejected => Problems.Of(
                MalformedCodes.Contains(rejected.ErrorCode) ? StatusCodes.Status400BadRequest : StatusCodes.Status422UnprocessableEntity,
                "Message refused",
                TextExcerpt.Of(rejected.ErrorMessage, 1024),
                rejected.ErrorCode,
                ("message_id", envelope.MessageId)),
            HandlingOutcome.DeadLettered dead => Problems.Of(StatusCodes.Status500InternalServerError, "Message dead-lettered",
                $"Message {envelope.MessageId} failed {dead.Attempts} times ({dead.ExceptionType}: {TextExcerpt.Of(dead.ErrorMessage, 256)}); it is kept as dead letter " +
                $"{dead.DeadLetterId} for an operator to requeue.",
                "DEAD_LETTERED", ("message_id", envelope.MessageId), ("dead_letter_id", dead.DeadLetterId)),
            HandlingOutcome.Failed failed => Saturated(http, ingestion,
                $"Message {envelope.MessageId} could not be processed now ({TextExcerpt.Of(failed.ErrorMessage, 256)}); retry with the same {IdempotencyKeyHeader}.",
                ("message_id", envelope.MessageId)),
            _ => throw new InvalidOperationException("unreachable outcome " + outcome.GetType().Name),
        };
    }

    private static ProblemHttpResult TooLarge(int max) =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, "Message too large",
            $"Messages may be at most {max} bytes (seed §10.1: keep messages under 1 MB; send large data by reference).",
            ErrorCodes.InvalidMessage);

    private static ProblemHttpResult Saturated(HttpContext http, IngestionOptions options, string detail, params (string, object?)[] extensions)
    {
        http.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Try again later", detail, null, extensions);
    }

    private static string? FirstHeader(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) && values.Count > 0 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;

    /// <summary>Reads at most <paramref name="max"/> bytes; <c>null</c> when the body is longer.</summary>
    /// <summary>
    /// The request body, or null when it is longer than <paramref name="max"/>. With a Content-Length (the usual case)
    /// it is read straight into an array of that size (the server ends the body there); a chunked body goes through a
    /// pooled buffer. Each request used to allocate a 16 KB chunk and a growing stream besides the result: a sixth of
    /// everything a node allocated per order.
    /// </summary>
    internal static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int max, CancellationToken ct)
    {
        if (request.ContentLength is not { } length) return await ReadChunkedAsync(request.Body, max, ct);
        if (length > max) return null;
        var body = new byte[length];
        var filled = 0;
        while (filled < body.Length)
        {
            var n = await request.Body.ReadAsync(body.AsMemory(filled), ct);
            if (n == 0) return body[..filled]; // the server ends a short body with an error before this
            filled += n;
        }

        return body;
    }

    private static async Task<byte[]?> ReadChunkedAsync(Stream body, int max, CancellationToken ct)
    {
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var buffer = new MemoryStream();
            int read;
            while ((read = await body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > max) return null;
                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
