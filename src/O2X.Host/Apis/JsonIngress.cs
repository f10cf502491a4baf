using Microsoft.Net.Http.Headers;
using O2X.Actors.Messaging;

namespace O2X.Host.Apis;

/// <summary>
/// What every endpoint that takes business data (ingestion, bulk) asks of a request before reading it: a JSON body
/// (<c>Content-Type: application/json</c>, else 415) — a browser cannot send that to another site without a CORS
/// preflight, which O2X never grants — and no sign of coming from another site's page (<c>Sec-Fetch-Site</c>,
/// <c>Origin</c>; else 403). Together they keep a page anyone might visit from writing through their browser.
/// </summary>
internal sealed class JsonIngress : IEndpointFilter
{
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string CrossSiteRequest = "CROSS_SITE_REQUEST";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        if (RequestSite.FromAnotherSite(request))
            return Problems.Of(StatusCodes.Status403Forbidden, "Cross-site request refused",
                "Messages are accepted from services and scripts, not from other sites' pages.", CrossSiteRequest);
        if (!IsJson(request.ContentType))
            return Problems.Of(StatusCodes.Status415UnsupportedMediaType, "JSON only",
                $"Send the message with 'Content-Type: application/json' (was '{TextExcerpt.Of(request.ContentType ?? "none", 64)}').", UnsupportedMediaType);
        return await next(context);
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
        && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.MediaType.Value is { } media && media.StartsWith("application/", StringComparison.OrdinalIgnoreCase)
                                                 && media.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        && (!type.Charset.HasValue || type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));
}

/// <summary>Where a browser says a request comes from.</summary>
internal static class RequestSite
{
    /// <summary>
    /// True when a browser marks the request as made by another site's page: <c>Sec-Fetch-Site</c> other than
    /// <c>same-origin</c>/<c>none</c>, or an <c>Origin</c> that is not this node's own (scheme, host and port of the request).
    /// Requests without these headers come from programs (the o2x tool, curl, services), not from pages.
    /// </summary>
    public static bool FromAnotherSite(HttpRequest request)
    {
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0 && fetchSite is not ("same-origin" or "none")) return true;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return false;
        return !Uri.TryCreate(origin, UriKind.Absolute, out var uri)
               || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
               || !string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase);
    }
}
