namespace O2X.Host.Hosting;

/// <summary>Who may use the administrative endpoints (<c>O2X:Admin</c>).</summary>
internal sealed class AdminOptions
{
    public const string Section = "O2X:Admin";

    /// <summary>
    /// Bearer token for administrative endpoints. Unset: they answer trusted local callers only (<see cref="TrustLoopback"/>).
    /// Set it through the environment (<c>O2X__Admin__Token</c>); it is never logged.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>
    /// An extra HTTP listener for administration and the <c>o2x</c> tool (port 9110, like pbm), on loopback by
    /// default. Empty: none (the admin endpoints still answer on the node's main URLs, under the same rules).
    /// </summary>
    public string Url { get; set; } = "http://127.0.0.1:9110";

    /// <summary>
    /// Whether callers on this machine need no token (reads on every listener, changes on the admin listener only, and only
    /// for an allowed Host). Unset: on for a single node on the embedded SQLite store (the first-run default), off
    /// otherwise — behind a reverse proxy on the same machine, set it off.
    /// </summary>
    public bool? TrustLoopback { get; set; }

    /// <summary>
    /// Host names a trusted (token-less) caller may address the node by. Default: localhost, 127.0.0.1, [::1]. A page that
    /// rebinds its own name to 127.0.0.1 uses its own name as Host, so it is not trusted.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    private static readonly string[] DefaultAllowedHosts = ["localhost", "127.0.0.1", "[::1]", "::1"];

    public bool IsAllowedHost(string host) =>
        (AllowedHosts.Count > 0 ? AllowedHosts : (IEnumerable<string>)DefaultAllowedHosts).Contains(host, StringComparer.OrdinalIgnoreCase);

    /// <summary><see cref="TrustLoopback"/>, or its default for this node.</summary>
    public bool EffectiveTrustLoopback(O2X.Actors.Hosting.NodeOptions node, O2X.Actors.Hosting.PersistenceOptions persistence) =>
        TrustLoopback ?? (node.SeedNodes.Length == 0 && persistence.EffectiveProvider == O2X.Actors.Hosting.PersistenceProvider.Sqlite);

    /// <summary>How often queue depth, consumer lag, dead letters and entity counts are sampled for /metrics.</summary>
    public TimeSpan MetricsSampleInterval { get; set; } = TimeSpan.FromSeconds(10);

    public IEnumerable<string> Validate()
    {
        if (MetricsSampleInterval < TimeSpan.FromMilliseconds(100) || MetricsSampleInterval > TimeSpan.FromMinutes(10))
            yield return $"{Section}:MetricsSampleInterval must be between 00:00:00.1 and 00:10:00 (was {MetricsSampleInterval}).";
        if (Url.Length > 0 && (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.AbsolutePath != "/"))
            yield return $"{Section}:Url must be empty or like http://127.0.0.1:9110 (was '{Url}').";
        if (Token is not null && Token.Length < 16)
            yield return $"{Section}:Token must be at least 16 characters (it guards requeue and purge of dead letters).";
    }
}
