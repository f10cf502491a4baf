using System.CommandLine;
using System.Text.Json.Nodes;
using static O2X.Cli.CliContext;

namespace O2X.Cli;

/// <summary><c>o2x sharding regions | stats [-r type]</c>.</summary>
public static class ShardingCommands
{
    public static Command Create()
    {
        var sharding = new Command("sharding", "Shard regions: where the entities live");

        var regions = new Command("regions", "Entity types with the nodes hosting them");
        Action(regions, async (_, c, ct) =>
        {
            var all = (await c.Client.GetAsync("api/sharding", ct)).AsArray();
            if (c.IsJson) c.Print(all);
            else
                Table(null, ["type", "nodes", "shards", "entities"], all.Select(r => new[]
                {
                    S(r!["type"]), r["nodes"]!.AsArray().Count.ToString(), Sum(r, "shards"), Sum(r, "entities"),
                }));
            return ExitCodes.Ok;
        });

        var type = new Option<string?>("--region", "-r") { Description = "Only this entity type (order, account, order-number, rejection-log)" };
        var stats = new Command("stats", "Shards and entities per node") { type };
        Action(stats, async (parse, c, ct) =>
        {
            var all = (await c.Client.GetAsync("api/sharding", ct)).AsArray();
            var wanted = parse.GetValue(type);
            var selected = all.Where(r => wanted is null || S(r!["type"]) == wanted).ToList();
            if (wanted is not null && selected.Count == 0)
                throw new CliException(ExitCodes.Failed, $"No region '{wanted}'. Known: {string.Join(", ", all.Select(r => S(r!["type"])))}.");
            if (c.IsJson) c.Print(new JsonArray(selected.Select(r => r!.DeepClone()).ToArray()));
            else
                Table(null, ["type", "node", "shards", "entities"], selected.SelectMany(r => r!["nodes"]!.AsArray().Select(n => new[]
                {
                    S(r["type"]), S(n!["address"]), S(n["shards"]), S(n["entities"]),
                })));
            return ExitCodes.Ok;
        });

        sharding.Subcommands.Add(regions);
        sharding.Subcommands.Add(stats);
        return sharding;
    }

    private static string Sum(JsonNode region, string field) => region["nodes"]!.AsArray().Sum(n => n![field]!.GetValue<int>()).ToString();
}
