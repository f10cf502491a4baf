using System.CommandLine;
using System.Text.Json.Nodes;
using static O2X.Cli.CliContext;

namespace O2X.Cli;

/// <summary><c>o2x dlq list | show &lt;id&gt; | requeue &lt;id&gt;|--queue | purge &lt;id&gt; --reason</c>.</summary>
public static class DeadLetterCommands
{
    public static Command Create()
    {
        var dlq = new Command("dlq", "Dead letters: browse, requeue, purge");

        var queue = new Option<string?>("--queue", "-q") { Description = "Only this queue" };
        var status = new Option<string?>("--status") { Description = "DEAD, REQUEUED, PURGED, …" };
        var error = new Option<string?>("--error") { Description = "Exception type contains" };
        var limit = new Option<int>("--limit") { Description = "At most this many", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "Dead letters, oldest first") { queue, status, error, limit };
        Action(list, async (parse, c, ct) =>
        {
            var query = Query(("queue", parse.GetValue(queue)), ("status", parse.GetValue(status)), ("error", parse.GetValue(error)),
                ("limit", parse.GetValue(limit).ToString()));
            var page = await c.Client.GetAsync("api/deadletters" + query, ct);
            if (c.IsJson) c.Print(page);
            else
                Table(null, ["id", "queue", "message id", "attempts", "last failure", "exception", "status", "requeues"],
                    page["items"]!.AsArray().Select(d => new[]
                    {
                        S(d!["id"]), S(d["queue"]), S(d["message_id"]), S(d["attempts"]), S(d["last_failure"]), S(d["exception_type"]), S(d["status"]),
                        S(d["requeue_count"]),
                    }));
            return ExitCodes.Ok;
        });

        var id = new Argument<long>("id") { Description = "Dead letter id (from dlq list)" };
        var show = new Command("show", "One dead letter with its headers and body") { id };
        Action(show, async (parse, c, ct) =>
        {
            var detail = await c.Client.GetAsync($"api/deadletters/{parse.GetValue(id)}", ct);
            if (c.IsJson)
            {
                c.Print(detail);
                return ExitCodes.Ok;
            }

            Table($"dead letter {parse.GetValue(id)}", ["", "value"], detail["dead_letter"]!.AsObject().Select(p => new[] { p.Key, S(p.Value) })
                .Concat(detail["headers"]!.AsObject().Select(p => new[] { "header " + p.Key, S(p.Value) })));
            Console.WriteLine($"body ({S(detail["body_encoding"])}):");
            Console.WriteLine(S(detail["body"]));
            return ExitCodes.Ok;
        });

        var requeueId = new Argument<long?>("id") { Description = "Dead letter id; or use --queue/--error for every matching one", Arity = ArgumentArity.ZeroOrOne };
        var requeueQueue = new Option<string?>("--queue", "-q") { Description = "Requeue every DEAD letter of this queue" };
        var requeueError = new Option<string?>("--error") { Description = "…whose exception type contains this" };
        var requeue = new Command("requeue", "Put dead letters back on their queue with a fresh retry budget") { requeueId, requeueQueue, requeueError };
        Action(requeue, async (parse, c, ct) =>
        {
            if (parse.GetValue(requeueId) is { } single)
            {
                var change = await c.Client.PostAsync($"api/deadletters/{single}/requeue", ct);
                if (c.IsJson) c.Print(change);
                else Console.WriteLine($"dead letter {S(change["id"])}: {S(change["status"])}");
                return ExitCodes.Ok;
            }

            if (parse.GetValue(requeueQueue) is null && parse.GetValue(requeueError) is null)
                throw new CliException(ExitCodes.Usage, "Name a dead letter id, or --queue and/or --error to requeue every matching one.");
            var bulk = await c.Client.PostAsync("api/deadletters/requeue" + Query(("queue", parse.GetValue(requeueQueue)), ("error", parse.GetValue(requeueError))), ct);
            if (c.IsJson) c.Print(bulk);
            else Console.WriteLine($"requeued {S(bulk["requeued"])}, skipped {S(bulk["skipped"])}");
            return ExitCodes.Ok;
        });

        var purgeId = new Argument<long>("id") { Description = "Dead letter id" };
        var reason = new Option<string>("--reason") { Description = "Why (kept for audit)", Required = true };
        var purge = new Command("purge", "Give up on a dead letter for good (it is kept, marked PURGED, with the reason)") { purgeId, reason };
        Action(purge, async (parse, c, ct) =>
        {
            var change = await c.Client.DeleteAsync($"api/deadletters/{parse.GetValue(purgeId)}?reason={Uri.EscapeDataString(parse.GetValue(reason)!)}", ct);
            if (c.IsJson) c.Print(change);
            else Console.WriteLine($"dead letter {S(change["id"])}: {S(change["status"])}");
            return ExitCodes.Ok;
        });

        dlq.Subcommands.Add(list);
        dlq.Subcommands.Add(show);
        dlq.Subcommands.Add(requeue);
        var source = new Option<string>("--source") { Description = "The broker's DLQ", DefaultValueFactory = _ => "ActiveMQ.DLQ" };
        var importLimit = new Option<int>("--limit") { Description = "At most this many messages", DefaultValueFactory = _ => 1000 };
        var import = new Command("import", "Move ActiveMQ's DLQ (the seed's) into O2X's dead letters, filed under their original queue") { source, importLimit };
        Action(import, async (parse, c, ct) =>
        {
            var result = await c.Client.PostAsync("api/deadletters/import" + Query(("source", parse.GetValue(source)),
                ("limit", parse.GetValue(importLimit).ToString(System.Globalization.CultureInfo.InvariantCulture))), ct);
            if (c.IsJson) c.Print(result);
            else Console.WriteLine($"imported {S(result["imported"])} from {S(result["source"])}: " +
                                   string.Join(", ", result["queues"]!.AsArray().Select(q => $"{S(q!["queue"])} {S(q["imported"])}")));
            return ExitCodes.Ok;
        });

        dlq.Subcommands.Add(purge);
        dlq.Subcommands.Add(import);
        return dlq;
    }

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? "" : "?" + string.Join("&", given);
    }
}
