using System.CommandLine;
using System.Net;
using System.Text.Json.Nodes;
using static O2X.Cli.CliContext;

namespace O2X.Cli;

/// <summary><c>o2x orders show</c>, <c>o2x accounts show</c>, <c>o2x send</c>, <c>o2x health</c>.</summary>
public static class EntityCommands
{
    public static Command Orders() => Show("orders", "order", "api/orders/");

    public static Command Accounts() => Show("accounts", "account", "api/accounts/");

    private static Command Show(string palette, string what, string path)
    {
        var id = new Argument<string>("id") { Description = $"The {what} id" };
        var show = new Command("show", $"One {what} as its entity holds it") { id };
        Action(show, async (parse, c, ct) =>
        {
            var entity = await c.Client.GetAsync(path + Uri.EscapeDataString(parse.GetValue(id)!), ct);
            if (c.IsJson)
            {
                c.Print(entity);
                return ExitCodes.Ok;
            }

            Table($"{what} {parse.GetValue(id)}", ["", "value"], entity.AsObject().Select(p => new[] { p.Key, S(p.Value) }));
            return ExitCodes.Ok;
        });
        var command = new Command(palette, $"{char.ToUpperInvariant(what[0])}{what[1..]}s");
        command.Subcommands.Add(show);
        return command;
    }

    public static Command Send()
    {
        var queue = new Argument<string>("queue") { Description = "O2X queue, e.g. OMS" };
        var file = new Argument<string>("file") { Description = "JSON message file, or - for standard input" };
        var id = new Option<string?>("--id") { Description = "Message id (idempotency key): the same id twice has one effect" };
        var send = new Command("send", "Put one message on a queue through the node's HTTP ingestion, and wait for its outcome") { queue, file, id };
        Action(send, async (parse, c, ct) =>
        {
            var content = AdminClient.Json(await ReadInputAsync(parse.GetValue(file)!, ct));
            if (parse.GetValue(id) is { } messageId) content.Headers.Add("X-Message-Id", messageId);
            var answer = await c.Client.PostAsync("api/queues/" + Uri.EscapeDataString(parse.GetValue(queue)!) + "/messages", ct, content);
            if (c.IsJson) c.Print(answer);
            else Console.WriteLine($"{S(answer["message_id"])}: {S(answer["status"])}" +
                                   (answer["result"] is JsonObject result ? " " + result.ToJsonString() : ""));
            return ExitCodes.Ok;
        });
        return send;
    }

    public static Command Health()
    {
        var health = new Command("health", "The node's readiness checks; exit code 5 unless ready");
        Action(health, async (_, c, ct) =>
        {
            var (status, report) = await c.Client.GetWithStatusAsync("health/ready", ct);
            if (status is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable))
                throw new CliException(ExitCodes.Failed, $"/health/ready answered {(int)status}");
            if (c.IsJson) c.Print(report);
            else
                Table($"{c.Client.Node} is {S(report["status"])}", ["check", "status", "description"],
                    report["checks"]!.AsArray().Select(ch => new[] { S(ch!["name"]), S(ch["status"]), S(ch["description"]) }));
            return status == HttpStatusCode.OK ? ExitCodes.Ok : ExitCodes.Unhealthy;
        });
        return health;
    }
}
