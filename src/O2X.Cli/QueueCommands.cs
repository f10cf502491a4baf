using System.CommandLine;
using System.Text.Json.Nodes;
using static O2X.Cli.CliContext;

namespace O2X.Cli;

/// <summary><c>o2x queues list | stats &lt;queue&gt;</c>.</summary>
public static class QueueCommands
{
    public static Command Create()
    {
        var queues = new Command("queues", "Queue bindings of the node: transport, connection, breaker, counters");

        var list = new Command("list", "Every queue with its transport and counters on this node");
        Action(list, async (_, c, ct) =>
        {
            var all = (await c.Client.GetAsync("api/queues", ct)).AsArray();
            if (c.IsJson) c.Print(all);
            else
                Table(null, ["queue", "transport", "address", "connection", "breaker", "depth/lag", "received", "in flight", "processed", "rejected", "dead-lettered"],
                    all.Select(q => new[]
                    {
                        S(q!["queue"]) + (q["enabled"]!.GetValue<bool>() ? "" : " (disabled)"), S(q["transport"]), S(q["address"]), S(q["connection"]),
                        S(q["breaker"]), S(q["depth"]) ?? S(q["lag"]), S(q["counters"]!["received"]), S(q["counters"]!["in_flight"]), S(q["counters"]!["processed"]),
                        S(q["counters"]!["rejected"]), S(q["counters"]!["dead_lettered"]),
                    }));
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("queue") { Description = "O2X queue name, e.g. OMS" };
        var stats = new Command("stats", "One queue in detail") { name };
        Action(stats, async (parse, c, ct) =>
        {
            var queue = await c.Client.GetAsync("api/queues/" + Uri.EscapeDataString(parse.GetValue(name)!), ct);
            if (c.IsJson)
            {
                c.Print(queue);
                return ExitCodes.Ok;
            }

            var rows = queue.AsObject().Where(p => p.Key != "counters").Select(p => new[] { p.Key, S(p.Value) })
                .Concat(queue["counters"]!.AsObject().Select(p => new[] { p.Key, S(p.Value) }));
            Table(S(queue["queue"]), ["", "value"], rows);
            return ExitCodes.Ok;
        });

        queues.Subcommands.Add(list);
        queues.Subcommands.Add(stats);
        return queues;
    }
}
