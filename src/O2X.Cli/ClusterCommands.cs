using System.CommandLine;
using System.Text.Json.Nodes;
using static O2X.Cli.CliContext;

namespace O2X.Cli;

/// <summary><c>o2x cluster show | status | leader | join | leave | down | down-unreachable | tail</c>.</summary>
public static class ClusterCommands
{
    public static Command Create()
    {
        var cluster = new Command("cluster", "Cluster membership, as the node sees it");

        var show = new Command("show", "Members with status, roles, reachability and the leader");
        Action(show, async (_, c, ct) =>
        {
            var view = await c.Client.GetAsync("api/cluster", ct);
            if (c.IsJson) c.Print(view);
            else
                Table($"cluster seen from {S(view["self"])}", ["address", "status", "roles", "reachable", "leader", "self"],
                    view["members"]!.AsArray().Select(m => new[]
                    {
                        S(m!["address"]), S(m["status"]), string.Join(",", m["roles"]!.AsArray().Select(S)), Yes(m["reachable"]), Yes(m["is_leader"]), Yes(m["is_self"]),
                    }));
            return ExitCodes.Ok;
        });

        var status = new Command("status", "This node's status in one line; exit code 5 unless it is Up and sees no unreachable member");
        Action(status, async (_, c, ct) =>
        {
            var view = await c.Client.GetAsync("api/cluster", ct);
            var members = view["members"]!.AsArray();
            var up = members.Count(m => S(m!["status"]) == "Up");
            var unreachable = view["unreachable"]!.GetValue<int>();
            var healthy = S(view["self_status"]) == "Up" && unreachable == 0;
            if (c.IsJson) c.Print(view);
            else
                Console.WriteLine($"{S(view["self"])} is {S(view["self_status"])}; {members.Count} members ({up} up, {unreachable} unreachable); " +
                                  $"leader {S(view["leader"]) ?? "none"}");
            return healthy ? ExitCodes.Ok : ExitCodes.Unhealthy;
        });

        var leader = new Command("leader", "The cluster leader's address");
        Action(leader, async (_, c, ct) =>
        {
            var view = await c.Client.GetAsync("api/cluster", ct);
            if (c.IsJson) c.Print(new JsonObject { ["leader"] = view["leader"]?.DeepClone() });
            else Console.WriteLine(S(view["leader"]) ?? "(no leader)");
            return view["leader"] is null ? ExitCodes.Unhealthy : ExitCodes.Ok;
        });

        cluster.Subcommands.Add(show);
        cluster.Subcommands.Add(status);
        cluster.Subcommands.Add(leader);
        cluster.Subcommands.Add(Membership("join", "Make the node join the cluster of the member at <address>", "api/cluster/join", required: true));
        cluster.Subcommands.Add(Membership("leave", "Gracefully remove <address> (default: the node itself): shards hand off, then it stops",
            "api/cluster/leave", required: false));
        cluster.Subcommands.Add(Membership("down", "Mark <address> as down (for a member that is dead and will not come back)", "api/cluster/down",
            required: true));
        cluster.Subcommands.Add(DownUnreachable());
        cluster.Subcommands.Add(Tail());
        return cluster;
    }

    private static Command Membership(string name, string description, string path, bool required)
    {
        var address = new Argument<string?>("address") { Description = "akka.tcp://o2x@host:port", Arity = required ? ArgumentArity.ExactlyOne : ArgumentArity.ZeroOrOne };
        var command = new Command(name, description) { address };
        Action(command, async (parse, c, ct) =>
        {
            var target = parse.GetValue(address);
            var answer = await c.Client.PostAsync(path + (target is null ? "" : "?address=" + Uri.EscapeDataString(target)), ct);
            if (c.IsJson) c.Print(answer);
            else Console.WriteLine($"{S(answer["address"])}: {S(answer["action"])}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command DownUnreachable()
    {
        var command = new Command("down-unreachable", "Down every member the node sees as unreachable");
        Action(command, async (_, c, ct) =>
        {
            var view = await c.Client.GetAsync("api/cluster", ct);
            var downed = new JsonArray();
            foreach (var member in view["members"]!.AsArray().Where(m => !m!["reachable"]!.GetValue<bool>()))
            {
                var address = S(member!["address"])!;
                await c.Client.PostAsync("api/cluster/down?address=" + Uri.EscapeDataString(address), ct);
                downed.Add(address);
                if (!c.IsJson) Console.WriteLine($"{address}: down");
            }

            if (c.IsJson) c.Print(new JsonObject { ["downed"] = downed });
            else if (downed.Count == 0) Console.WriteLine("No unreachable members.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Tail()
    {
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds (default: until Ctrl+C)" };
        var command = new Command("tail", "Stream membership and reachability events as the node sees them, until Ctrl+C") { duration };
        Action(command, async (parse, c, ct) =>
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (parse.GetValue(duration) is { } seconds) limit.CancelAfter(TimeSpan.FromSeconds(seconds));
            // The HTTP timeout is for single answers; an event stream lasts as long as the operator wants.
            using var client = new AdminClient(c.Client.Node, c.AdminToken, System.Threading.Timeout.InfiniteTimeSpan);
            try
            {
                await foreach (var e in client.StreamAsync("api/cluster/events", limit.Token))
                {
                    if (c.IsJson) Console.WriteLine(e.ToJsonString());
                    else Console.WriteLine($"{e["at"]!.GetValue<DateTimeOffset>():HH:mm:ss}  {S(e["event"]),-18} {S(e["address"]) ?? "—"}  {S(e["status"])}");
                }
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested)
            {
                // --duration elapsed or Ctrl+C: a tail ends that way.
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Yes(JsonNode? flag) => flag?.GetValue<bool>() == true ? "yes" : "";
}
