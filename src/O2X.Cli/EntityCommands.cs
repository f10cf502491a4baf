using System.CommandLine;
using System.Net;
using System.Text.Json.Nodes;
using static O2X.Cli.CliContext;

namespace O2X.Cli;

/// <summary><c>o2x orders show</c>, <c>o2x accounts show</c>, <c>o2x send</c>, <c>o2x health</c>.</summary>
public static class EntityCommands
{
    public static Command Orders()
    {
        var orders = Show("orders", "order", "api/orders/");
        orders.Subcommands.Add(Stuck());
        orders.Subcommands.Add(RetryProvisioning());
        orders.Subcommands.Add(FailProvisioning());
        return orders;
    }

    private static Command Stuck()
    {
        var stuck = new Command("stuck", "Orders whose provisioning did not answer within O2X:Orders:ProvisioningTimeout, longest first");
        Action(stuck, async (_, c, ct) =>
        {
            var list = await c.Client.GetAsync("api/orders/stuck", ct);
            if (c.IsJson)
            {
                c.Print(list);
                return ExitCodes.Ok;
            }

            Table($"stuck orders (timeout {S(list["provisioning_timeout"])})", ["order", "account", "request", "requested", "stuck since"],
                list["items"]!.AsArray().Select(o => new[] { S(o!["order_id"]), S(o["account_id"]), S(o["request_id"]), S(o["requested_at"]), S(o["stuck_at"]) }));
            return ExitCodes.Ok;
        });
        return stuck;
    }

    private static Command RetryProvisioning()
    {
        var id = new Argument<string>("id") { Description = "A STUCK order's id" };
        var retry = new Command("retry-provisioning", "Send a STUCK order's provisioning request again, under a new request id") { id };
        Action(retry, async (parse, c, ct) =>
        {
            var order = await c.Client.PostAsync($"api/orders/{Uri.EscapeDataString(parse.GetValue(id)!)}/provisioning/retry", ct);
            if (c.IsJson) c.Print(order);
            else Console.WriteLine($"{S(order["order_id"])}: {S(order["status"])}, provisioning request {S(order["provisioning_request_id"])}");
            return ExitCodes.Ok;
        });
        return retry;
    }

    private static Command FailProvisioning()
    {
        var id = new Argument<string>("id") { Description = "A STUCK order's id" };
        var reason = new Option<string>("--reason") { Description = "Why (kept in the order's timeline and sent to the OMS)", Required = true };
        var fail = new Command("fail-provisioning", "Give up on a STUCK order: FAILED with PROVISIONING_TIMEOUT and the reason") { id, reason };
        Action(fail, async (parse, c, ct) =>
        {
            var body = new JsonObject { ["reason"] = parse.GetValue(reason) };
            var order = await c.Client.PostAsync($"api/orders/{Uri.EscapeDataString(parse.GetValue(id)!)}/provisioning/fail", ct,
                AdminClient.Json(body.ToJsonString()));
            if (c.IsJson) c.Print(order);
            else Console.WriteLine($"{S(order["order_id"])}: {S(order["status"])}");
            return ExitCodes.Ok;
        });
        return fail;
    }

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
