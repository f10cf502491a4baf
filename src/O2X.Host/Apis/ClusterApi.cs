using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace O2X.Host.Apis;

/// <summary>
/// Cluster administration for operators and the <c>o2x</c> tool (loopback or admin token):
/// <c>GET /api/cluster</c> (members as this node sees them), <c>POST /api/cluster/leave|down?address=</c>,
/// <c>GET /api/sharding</c> (shards and entities per node for each entity type).
/// </summary>
internal static class ClusterApi
{
    public sealed record MemberView(string Address, string Status, IReadOnlyList<string> Roles, bool Reachable, bool IsLeader, bool IsSelf);

    public sealed record ClusterView(string Self, string SelfStatus, string? Leader, IReadOnlyList<MemberView> Members, int Unreachable);

    public sealed record RegionOnNode(string Address, int Shards, int Entities);

    public sealed record ShardingView(string Type, IReadOnlyList<RegionOnNode> Nodes, IReadOnlyList<string> Unanswered);

    public sealed record MembershipChange(string Address, string Action);

    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api").AddEndpointFilter<AdminAccess>();
        group.MapGet("/cluster", Show).WithName("ShowCluster");
        group.MapGet("/cluster/events", Events).WithName("ClusterEvents");
        group.MapPost("/cluster/join", Join).WithName("JoinCluster");
        group.MapPost("/cluster/leave", Leave).WithName("LeaveCluster");
        group.MapPost("/cluster/down", Down).WithName("DownMember");
        group.MapGet("/sharding", Sharding).WithName("ShardingStats");
        return app;
    }

    private static Ok<ClusterView> Show(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members
            .Select(m => new MemberView(m.Address.ToString(), m.Status.ToString(), [.. m.Roles.Order()], !unreachable.Contains(m.Address),
                m.Address == state.Leader, m.Address == cluster.SelfAddress))
            .OrderBy(m => m.Address, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(new ClusterView(cluster.SelfAddress.ToString(), cluster.SelfMember.Status.ToString(), state.Leader?.ToString(), members,
            unreachable.Count));
    }

    /// <summary>
    /// Server-sent events: the current members first (as MemberUp, MemberJoined… events), then every membership and
    /// reachability change this node sees, one JSON object per event, until the caller disconnects.
    /// </summary>
    private static async Task Events(HttpContext context, ActorSystem system)
    {
        var events = System.Threading.Channels.Channel.CreateBounded<string>(new System.Threading.Channels.BoundedChannelOptions(1000)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest,
        });
        var subscriber = system.ActorOf(Props.Create(() => new ClusterEventForwarder(events.Writer)));
        try
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await foreach (var json in events.Reader.ReadAllAsync(context.RequestAborted))
            {
                await context.Response.WriteAsync($"data: {json}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away: that is how an event stream ends.
        }
        finally
        {
            system.Stop(subscriber);
        }
    }

    private sealed class ClusterEventForwarder : ReceiveActor
    {
        private readonly Cluster _cluster = Cluster.Get(Context.System);

        public ClusterEventForwarder(System.Threading.Channels.ChannelWriter<string> events)
        {
            Receive<ClusterEvent.IMemberEvent>(e => events.TryWrite(Json(e.GetType().Name, e.Member.Address, e.Member.Status.ToString())));
            Receive<ClusterEvent.UnreachableMember>(e => events.TryWrite(Json("UnreachableMember", e.Member.Address, e.Member.Status.ToString())));
            Receive<ClusterEvent.ReachableMember>(e => events.TryWrite(Json("ReachableMember", e.Member.Address, e.Member.Status.ToString())));
            Receive<ClusterEvent.LeaderChanged>(e => events.TryWrite(Json("LeaderChanged", e.Leader, null)));
        }

        protected override void PreStart() =>
            _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));

        protected override void PostStop() => _cluster.Unsubscribe(Self);

        private static string Json(string type, Address? address, string? status) => new System.Text.Json.Nodes.JsonObject
        {
            ["at"] = DateTimeOffset.UtcNow,
            ["event"] = type,
            ["address"] = address?.ToString(),
            ["status"] = status,
        }.ToJsonString();
    }

    /// <summary>Makes this node join the cluster of the member at <paramref name="address"/> (a node started without seed nodes).</summary>
    private static Results<Accepted<MembershipChange>, ProblemHttpResult> Join(ActorSystem system, string? address = null)
    {
        if (address is null || !ActorPath.TryParseAddress(address, out var target))
            return Problems.Of(StatusCodes.Status400BadRequest, "Address required",
                "Name a member of the cluster to join: ?address=akka.tcp://o2x@host:port.", "INVALID_FIELD");
        Cluster.Get(system).Join(target);
        return TypedResults.Accepted((string?)null, new MembershipChange(target.ToString(), "joining"));
    }

    private static Results<Accepted<MembershipChange>, ProblemHttpResult> Leave(ActorSystem system, string? address = null)
    {
        var cluster = Cluster.Get(system);
        if (Resolve(cluster, address) is not { } target) return UnknownMember(address);
        // A graceful leave: the member hands its shards and singletons off, then shuts down.
        cluster.Leave(target);
        return TypedResults.Accepted((string?)null, new MembershipChange(target.ToString(), "leaving"));
    }

    private static Results<Accepted<MembershipChange>, ProblemHttpResult> Down(ActorSystem system, string? address = null)
    {
        var cluster = Cluster.Get(system);
        if (address is null)
            return Problems.Of(StatusCodes.Status400BadRequest, "Address required", "Name the member to down: ?address=akka.tcp://o2x@host:port.",
                "MISSING_FIELD");
        if (Resolve(cluster, address) is not { } target) return UnknownMember(address);
        cluster.Down(target);
        return TypedResults.Accepted((string?)null, new MembershipChange(target.ToString(), "down"));
    }

    private static async Task<Ok<IReadOnlyList<ShardingView>>> Sharding(IReadOnlyActorRegistry registry, CancellationToken ct)
    {
        var views = new List<ShardingView>();
        foreach (var (type, region) in Hosting.ShardRegions.Started(registry))
        {
            var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10), ct);
            views.Add(new ShardingView(type,
                stats.Regions.Select(r => new RegionOnNode(r.Key.ToString(), r.Value.Stats.Count, r.Value.Stats.Values.Sum()))
                    .OrderBy(r => r.Address, StringComparer.Ordinal).ToList(),
                stats.Regions.SelectMany(r => r.Value.Failed.Select(f => $"{r.Key}/{f}")).ToList()));
        }

        return TypedResults.Ok<IReadOnlyList<ShardingView>>(views);
    }

    private static Address? Resolve(Cluster cluster, string? address)
    {
        if (address is null) return cluster.SelfAddress;
        return cluster.State.Members.Select(m => m.Address).FirstOrDefault(a => a.ToString() == address.TrimEnd('/'));
    }

    private static ProblemHttpResult UnknownMember(string? address) =>
        Problems.Of(StatusCodes.Status404NotFound, "Unknown member", $"'{Problems.Truncate(address ?? "")}' is not a member of this cluster.");
}
