using System.Net;
using System.Security.Cryptography;
using System.Text;
using O2X.Host.Hosting;

namespace O2X.Host.Apis;

/// <summary>
/// Who may use the administrative endpoints (dead letters, cluster, sharding, queues, metrics):
/// <list type="bullet">
/// <item>a caller presenting the configured bearer token (<c>O2X:Admin:Token</c>, compared in constant time), from anywhere;</item>
/// <item>without a token, only a trusted caller: <c>O2X:Admin:TrustLoopback</c> is on (by default only for a single node on
/// the embedded SQLite store), the connection comes from this machine, and the <c>Host</c> it asked for is one of
/// <c>O2X:Admin:AllowedHosts</c> (so a name rebound to 127.0.0.1 by a hostile page does not pass). Such a caller may read
/// on every listener, but change things (requeue, purge, leave, down) only on the admin listener (<c>O2X:Admin:Url</c>):
/// behind a reverse proxy on the same machine every caller of the public listener looks local.</item>
/// </list>
/// A change requested by another site's page is refused (403) whatever else it carries. Anyone else gets 401.
/// </summary>
internal sealed class AdminAccess(O2XSettings settings) : IEndpointFilter
{
    private readonly int? _adminPort = settings.Admin.Url.Length > 0 && Uri.TryCreate(settings.Admin.Url, UriKind.Absolute, out var url) ? url.Port : null;
    private readonly bool _trustLoopback = settings.Admin.EffectiveTrustLoopback(settings.Node, settings.Persistence);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var change = IsChange(http.Request);
        if (change && RequestSite.FromAnotherSite(http.Request))
            return Problems.Of(StatusCodes.Status403Forbidden, "Cross-site request refused",
                "Administrative changes are accepted from this node's own console, the o2x tool or scripts, not from other sites' pages.");
        if (HasToken(http.Request) || Trusted(http, change)) return await next(context);
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Of(StatusCodes.Status401Unauthorized, "Not authorized", Explain(change));
    }

    private static bool IsChange(HttpRequest request) =>
        !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));

    private bool Trusted(HttpContext http, bool change)
    {
        if (!_trustLoopback) return false;
        if (http.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote)) return false;
        if (!settings.Admin.IsAllowedHost(http.Request.Host.Host)) return false;
        return !change || OnAdminListener(http);
    }

    private bool OnAdminListener(HttpContext http) =>
        _adminPort is { } port && http.Connection.LocalPort == port && http.Connection.LocalIpAddress is { } local && IPAddress.IsLoopback(local);

    private bool HasToken(HttpRequest request)
    {
        if (settings.Admin.Token is not { } token) return false;
        var header = request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.Ordinal)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[prefix.Length..]), Encoding.UTF8.GetBytes(token));
    }

    private string Explain(bool change)
    {
        var token = settings.Admin.Token is null
            ? "No O2X:Admin:Token is configured, so only trusted local callers are served"
            : "Send 'Authorization: Bearer <token>' with the configured O2X:Admin:Token";
        if (!_trustLoopback) return token + " (O2X:Admin:TrustLoopback is off on this node).";
        return change
            ? token + $"; without it, changes are accepted only from this machine on the admin listener ({settings.Admin.Url}), with an allowed Host."
            : token + "; without it, only callers on this machine asking for an allowed Host (O2X:Admin:AllowedHosts) are served.";
    }
}
