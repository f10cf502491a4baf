using System.Globalization;

namespace O2X.Streams.Stomp;

/// <summary>One broker to try: host, port and whether the connection is TLS (<c>stomp+ssl</c>).</summary>
public sealed record StompEndpoint(string Host, int Port, bool Tls)
{
    public override string ToString() => $"{(Tls ? "stomp+ssl" : "stomp")}://{Host}:{Port}";
}

/// <summary>
/// Broker addresses in the form ActiveMQ and Amazon MQ hand out: one <c>stomp://host:port</c> or
/// <c>stomp+ssl://host:port</c>, or an active/standby pair (or more) as <c>failover:(uri1,uri2,…)</c>, tried in order.
/// Query strings (ActiveMQ client options such as <c>?randomize=false</c>) are accepted and ignored.
/// </summary>
public static class StompEndpoints
{
    public static IReadOnlyList<StompEndpoint> Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var text = address.Trim();
        if (text.StartsWith("failover:", StringComparison.OrdinalIgnoreCase))
        {
            var inner = text["failover:".Length..];
            if (inner.StartsWith("//", StringComparison.Ordinal)) inner = inner[2..];
            // The list's own options follow it: after the closing parenthesis, or (bare form) after the last broker.
            var query = inner.IndexOf('?', inner.StartsWith('(') ? Math.Max(inner.IndexOf(')'), 0) : Math.Max(inner.LastIndexOf(','), 0));
            if (query >= 0) inner = inner[..query];
            if (inner.StartsWith('(')) inner = inner.EndsWith(')') ? inner[1..^1] : throw Invalid(address, "a failover list needs its closing parenthesis");
            var endpoints = inner.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(u => One(u, address)).ToList();
            return endpoints.Count > 0 ? endpoints : throw Invalid(address, "a failover list needs at least one broker");
        }

        return [One(text, address)];
    }

    private static StompEndpoint One(string uri, string address)
    {
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) throw Invalid(address, $"'{uri}' has no scheme (stomp:// or stomp+ssl://)");
        var tls = uri[..scheme].ToLowerInvariant() switch
        {
            // Not tcp:// or ssl://: those are OpenWire's, and its port does not speak STOMP.
            "stomp" => false,
            "stomp+ssl" or "stomp+tls" => true,
            var other => throw Invalid(address, $"unknown scheme '{other}' (stomp or stomp+ssl)"),
        };
        var rest = uri[(scheme + 3)..];
        if (rest.Contains('@')) throw Invalid(address, "credentials do not belong in the address (configure Username and Password)");
        var end = rest.IndexOfAny(['/', '?']);
        if (end >= 0) rest = rest[..end];
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || rest.EndsWith(']')) throw Invalid(address, $"'{uri}' needs host:port");
        var host = rest[..colon].Trim('[', ']');
        if (!int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw Invalid(address, $"'{uri}' has no valid port");
        if (host.Length == 0 || Uri.CheckHostName(host) == UriHostNameType.Unknown) throw Invalid(address, $"'{uri}' has no valid host");
        return new StompEndpoint(host, port, tls);
    }

    private static string Redacted(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"://[^,()]*@", "://***@");

    private static FormatException Invalid(string address, string why) =>
        // Credentials do not belong in an address, but one that has them anyway is shown without them, whatever is wrong with it.
        new($"Not a STOMP broker address: {Redacted(why)}. Expected stomp://host:port, stomp+ssl://host:port or failover:(…,…); was '{Redacted(address)}'.");
}

/// <summary>STOMP heart-beating (the <c>heart-beat</c> header of CONNECT and CONNECTED).</summary>
public static class StompHeartBeat
{
    /// <summary>
    /// What was agreed, from what the client offered (<paramref name="clientSends"/>, <paramref name="clientWants"/>) and
    /// the server's CONNECTED header: the client sends every max(cx, sy) unless either is 0, and expects to hear from the
    /// server every max(cy, sx) unless either is 0. Zero means none.
    /// </summary>
    public static (TimeSpan Send, TimeSpan Expect) Negotiate(TimeSpan clientSends, TimeSpan clientWants, string? serverHeader)
    {
        var (sx, sy) = Parse(serverHeader);
        var cx = (long)clientSends.TotalMilliseconds;
        var cy = (long)clientWants.TotalMilliseconds;
        var send = cx == 0 || sy == 0 ? 0 : Math.Max(cx, sy);
        var expect = cy == 0 || sx == 0 ? 0 : Math.Max(cy, sx);
        return (TimeSpan.FromMilliseconds(send), TimeSpan.FromMilliseconds(expect));
    }

    /// <summary>The header value a client offers.</summary>
    public static string Offer(TimeSpan sends, TimeSpan wants) =>
        string.Create(CultureInfo.InvariantCulture, $"{(long)sends.TotalMilliseconds},{(long)wants.TotalMilliseconds}");

    private static (long, long) Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header)) return (0, 0);
        var parts = header.Split(',');
        if (parts.Length != 2
            || !long.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var x)
            || !long.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var y))
            throw new StompProtocolException($"Not a heart-beat header: '{(header.Length > 32 ? header[..32] + "…" : header)}'.");
        return (x, y);
    }
}
