using System.Net;
using System.Security.Cryptography;
using System.Text;
using O2X.Host.Hosting;

namespace O2X.Host.Apis;

/// <summary>
/// Administrative endpoints answer callers on the same machine, or callers presenting the configured bearer
/// token (compared in constant time). Anyone else gets 401 Problem Details. A browser's change request from another
/// site (its <c>Origin</c> is not this node) is refused with 403 even on loopback: a page elsewhere cannot requeue or
/// purge through an operator's browser.
/// </summary>
public sealed class AdminAccess(O2XSettings settings) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (FromAnotherSite(http.Request))
            return Problems.Of(StatusCodes.Status403Forbidden, "Cross-site request refused",
                "Administrative changes are accepted from this node's own console, the o2x tool or scripts, not from other sites' pages.");
        if (Allowed(http)) return await next(context);
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Of(StatusCodes.Status401Unauthorized, "Not authorized",
            settings.Admin.Token is null
                ? "Administrative endpoints answer loopback callers only; configure O2X:Admin:Token to allow others."
                : "Administrative endpoints need 'Authorization: Bearer <token>' with the configured O2X:Admin:Token.");
    }

    private static bool FromAnotherSite(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)) return false;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return false; // not a browser (o2x, curl, scripts)
        return !Uri.TryCreate(origin, UriKind.Absolute, out var uri) ||
               !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private bool Allowed(HttpContext http)
    {
        var remote = http.Connection.RemoteIpAddress;
        if (remote is null || IPAddress.IsLoopback(remote)) return true; // null: in-process test host
        if (settings.Admin.Token is not { } token) return false;
        var header = http.Request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.Ordinal)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[prefix.Length..]), Encoding.UTF8.GetBytes(token));
    }
}
