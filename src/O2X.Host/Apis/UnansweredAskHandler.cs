using Akka.Actor;
using Microsoft.AspNetCore.Diagnostics;
using O2X.Actors.Messaging;
using O2X.Host.Hosting;

namespace O2X.Host.Apis;

/// <summary>
/// An entity that did not answer in time (its journal is unreachable, it is recovering, its node is leaving) makes a
/// request fail for now, not for good: 503 with Retry-After and the code <c>ENTITY_UNAVAILABLE</c>, instead of the
/// generic 500 a client would treat as a defect. Any endpoint that asks an entity gets this without catching it itself.
/// </summary>
internal sealed class UnansweredAskHandler(IProblemDetailsService problems, O2XSettings settings, ILogger<UnansweredAskHandler> log) : IExceptionHandler
{
    public const string ErrorCode = "ENTITY_UNAVAILABLE";

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is not (AskTimeoutException or RetryableException)) return false;
        log.LogWarning("{Method} {Path}: answered 503, {Reason}", http.Request.Method, http.Request.Path.Value, exception.Message);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = settings.Ingestion.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Try again later",
                Detail = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)
                    ? "The entity did not answer in time: it may be recovering, or its database may be unreachable. Try again."
                    : "The entity did not answer in time: it may be recovering, or its database may be unreachable. The change may still " +
                      "take effect: read the entity before repeating it.",
                Extensions = { ["error_code"] = ErrorCode },
            },
        });
    }
}
