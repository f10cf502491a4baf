using System.Net;
using System.Security.Cryptography;
using System.Text;
using O2X.Host.Hosting;

namespace O2X.Host.Apis;

/// <summary>
/// Administrative endpoints answer callers on the same machine, or callers presenting the configured bearer
/// token (compared in constant time). Anyone else gets 401 Problem Details.
/// </summary>
public sealed class AdminAccess(O2XSettings settings) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (Allowed(http)) return await next(context);
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Of(StatusCodes.Status401Unauthorized, "Not authorized",
            settings.Admin.Token is null
                ? "Administrative endpoints answer loopback callers only; configure O2X:Admin:Token to allow others."
                : "Administrative endpoints need 'Authorization: Bearer <token>' with the configured O2X:Admin:Token.");
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
