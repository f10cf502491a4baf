namespace O2X.Actors.Hosting;

/// <summary>Cluster membership of this node (<c>O2X:Node</c>).</summary>
internal sealed class NodeOptions
{
    public const string Section = "O2X:Node";

    /// <summary>Name of the actor system; every node of one cluster must use the same.</summary>
    public string ActorSystemName { get; set; } = "o2x";

    /// <summary>Interface the cluster transport binds to.</summary>
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>Cluster transport port; 0 picks a free one (tests, single node).</summary>
    public int Port { get; set; } = 4053;

    /// <summary>Address other nodes use to reach this one (e.g. a container's service name); defaults to <see cref="Hostname"/>.</summary>
    public string? PublicHostname { get; set; }

    /// <summary>Seed nodes, e.g. <c>akka.tcp://o2x@node1:4053</c>. Empty: this node forms a cluster on its own.</summary>
    public string[] SeedNodes { get; set; } = [];

    /// <summary>Cluster roles of this node: <c>ingest</c> (queue bindings, HTTP ingestion), <c>entities</c> (hosts orders
    /// and accounts). Unset: both.</summary>
    public string[]? Roles { get; set; }

    /// <summary>
    /// How long the cluster must be stable (no membership changes) before the split-brain resolver downs
    /// unreachable members (keep-majority). Shorter: faster fail-over after a crash; longer: fewer false downings
    /// during GC pauses or network blips.
    /// </summary>
    public TimeSpan DowningStableAfter { get; set; } = TimeSpan.FromSeconds(20);

    public IReadOnlyList<string> EffectiveRoles => Roles is { Length: > 0 } ? Roles : NodeRoles.All;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ActorSystemName) || !ActorSystemName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            yield return $"{Section}:ActorSystemName must be letters, digits, '-' or '_' (was '{ActorSystemName}').";
        if (string.IsNullOrWhiteSpace(Hostname))
            yield return $"{Section}:Hostname must be set.";
        if (Port is < 0 or > 65535)
            yield return $"{Section}:Port must be between 0 and 65535 (was {Port}).";
        for (var i = 0; i < SeedNodes.Length; i++)
        {
            if (!Uri.TryCreate(SeedNodes[i], UriKind.Absolute, out var uri) || uri.Scheme != "akka.tcp" || uri.UserInfo != ActorSystemName || uri.Port <= 0)
                yield return $"{Section}:SeedNodes:{i} must look like akka.tcp://{ActorSystemName}@host:port (was '{SeedNodes[i]}').";
        }

        if (DowningStableAfter < TimeSpan.FromSeconds(1) || DowningStableAfter > TimeSpan.FromMinutes(10))
            yield return $"{Section}:DowningStableAfter must be between 00:00:01 and 00:10:00 (was {DowningStableAfter}).";
        foreach (var role in EffectiveRoles.Where(r => !NodeRoles.All.Contains(r)))
            yield return $"{Section}:Roles contains unknown role '{role}' (known: {string.Join(", ", NodeRoles.All)}).";
    }
}

/// <summary>The roles a node can take, so ingestion and entity hosting scale apart.</summary>
internal static class NodeRoles
{
    public const string Ingest = "ingest";
    public const string Entities = "entities";
    public static readonly IReadOnlyList<string> All = [Ingest, Entities];
}
