using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using static O2X.Cli.CliContext;

namespace O2X.Cli;

/// <summary><c>o2x bulk submit | status | list</c>: bulk jobs (seed §4.3) through <c>/api/bulk</c>.</summary>
public static class BulkCommands
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var command = new Command("bulk", "Bulk jobs: submit one from a file, follow its progress, list recent ones");
        command.Subcommands.Add(Submit());
        command.Subcommands.Add(Status());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Submit()
    {
        var file = new Argument<string>("file")
        {
            Description = "JSON job {\"id\"?, \"api_name\", \"payloads\": [...]} (seed §6.5 fields), or a JSON array of payload items with --api-name; - for standard input",
        };
        var api = new Option<string?>("--api-name") { Description = "The operation, e.g. REGENERATE_INVOICE (overrides the file's api_name)" };
        var id = new Option<string?>("--id") { Description = "Job id (default: the file's id, else the node makes one); submitting the same id again does nothing twice" };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the job is queued instead of following its progress" };
        var submit = new Command("submit", "Submit a bulk job and follow it to completion with a progress bar; exit code 1 if any item failed") { file, api, id, noWait };
        Action(submit, async (parse, c, ct) =>
        {
            var job = ReadJob(parse.GetValue(file)!, await ReadInputAsync(parse.GetValue(file)!, ct));
            if (parse.GetValue(api) is { } name) job["api_name"] = name;
            if (parse.GetValue(id) is { } jobId) job["id"] = jobId;
            if (job["api_name"] is null) throw new CliException(ExitCodes.Usage, "The file has no api_name: pass --api-name.");

            var answer = await c.Client.PostAsync("api/bulk", ct, AdminClient.Json(job.ToJsonString()));
            var submitted = S(answer["job_id"])!;
            if (c.IsJson && parse.GetValue(noWait))
            {
                c.Print(answer);
                return ExitCodes.Ok;
            }

            if (!c.IsJson)
                Console.WriteLine($"Job {submitted}: {S(answer["total_count"])} {S(answer["api_name"])} items in {answer["messages"]!.AsArray().Count} messages" +
                                  (answer["resubmitted"]?.GetValue<bool>() == true ? " (submitted before: only what is left is done)" : ""));
            if (parse.GetValue(noWait)) return ExitCodes.Ok;
            return await FollowAsync(c, submitted, ct);
        });
        return submit;
    }

    private static Command Status()
    {
        var id = new Argument<string>("id") { Description = "The bulk job id" };
        var watch = new Option<bool>("--watch", "-w") { Description = "Follow the job with a progress bar until it completes" };
        var status = new Command("status", "A bulk job's stats (success, failure, completed %) and its failed items") { id, watch };
        Action(status, async (parse, c, ct) =>
        {
            var jobId = parse.GetValue(id)!;
            if (parse.GetValue(watch)) return await FollowAsync(c, jobId, ct);
            var stats = await c.Client.GetAsync(JobPath(jobId), ct);
            if (c.IsJson)
            {
                c.Print(stats);
                return ExitCodes.Ok;
            }

            PrintStats(stats);
            await PrintFailuresAsync(c, jobId, ct);
            return ExitCodes.Ok;
        });
        return status;
    }

    private static Command List()
    {
        var limit = new Option<int>("--limit") { Description = "How many jobs, newest first", DefaultValueFactory = _ => 20 };
        var list = new Command("list", "Recent bulk jobs, newest first") { limit };
        Action(list, async (parse, c, ct) =>
        {
            var jobs = await c.Client.GetAsync($"api/bulk?limit={parse.GetValue(limit)}", ct);
            if (c.IsJson)
            {
                c.Print(jobs);
                return ExitCodes.Ok;
            }

            Table("bulk jobs", ["job", "api_name", "total", "succeeded", "failed", "done %", "status", "submitted"],
                jobs["items"]!.AsArray().Select(j => new[]
                {
                    S(j!["job_id"]), S(j["api_name"]), S(j["total_count"]), S(j["success_count"]), S(j["failure_count"]), S(j["completed_percent"]),
                    S(j["status"]), S(j["submitted_at"]),
                }));
            return ExitCodes.Ok;
        });
        return list;
    }

    /// <summary>Polls the job until it completes: a live progress bar on a terminal, progress lines otherwise.</summary>
    private static async Task<int> FollowAsync(CliContext c, string jobId, CancellationToken ct)
    {
        JsonNode stats = await c.Client.GetAsync(JobPath(jobId), ct);
        int Done(JsonNode s) => s["success_count"]!.GetValue<int>() + s["failure_count"]!.GetValue<int>();

        // Shows each state of the job until it completes.
        async Task PollAsync(Action<JsonNode> show)
        {
            while (true)
            {
                show(stats);
                if (S(stats["status"]) == "COMPLETED") return;
                await Task.Delay(Poll, ct);
                stats = await c.Client.GetAsync(JobPath(jobId), ct);
            }
        }

        if (c.IsJson) await PollAsync(_ => { });
        else if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Logs and pipes: a line whenever the job moved.
            var last = -1;
            await PollAsync(s =>
            {
                if (Done(s) != last)
                    Console.WriteLine($"{jobId}: {Done(s)}/{S(s["total_count"])} ({S(s["completed_percent"])}%) " +
                                      $"succeeded {S(s["success_count"])}, failed {S(s["failure_count"])}");
                last = Done(s);
            });
        }
        else
        {
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(Markup.Escape($"{jobId} {S(stats["api_name"])}"), maxValue: Math.Max(1, stats["total_count"]!.GetValue<int>()));
                    await PollAsync(s =>
                    {
                        task.Value = Done(s);
                        task.Description = Markup.Escape($"{jobId} {S(s["api_name"])} ✓{S(s["success_count"])} ✗{S(s["failure_count"])}");
                    });
                });
        }

        if (c.IsJson) c.Print(stats);
        else
        {
            PrintStats(stats);
            await PrintFailuresAsync(c, jobId, ct);
        }

        return stats["failure_count"]!.GetValue<int>() == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static void PrintStats(JsonNode stats) =>
        Table($"bulk job {S(stats["job_id"])}", ["", "value"], new[]
        {
            new[] { "api_name", S(stats["api_name"]) }, ["status", S(stats["status"])], ["total", S(stats["total_count"])],
            ["succeeded", S(stats["success_count"])], ["failed", S(stats["failure_count"])], ["completed %", S(stats["completed_percent"])],
            ["created by", S(stats["created_by"])], ["submitted", S(stats["submitted_at"])], ["last item", S(stats["last_item_at"])],
        });

    private static async Task PrintFailuresAsync(CliContext c, string jobId, CancellationToken ct)
    {
        var failed = (await c.Client.GetAsync(JobPath(jobId) + "/items?status=failed&limit=20", ct))["items"]!.AsArray();
        if (failed.Count == 0) return;
        Table("failed items (first 20; --json or the API for all)", ["item", "account", "code", "reason"],
            failed.Select(f => new[] { S(f!["index"]), S(f["account_id"]), S(f["error_code"]), S(f["reason"]) }));
    }

    private static string JobPath(string jobId) => "api/bulk/" + Uri.EscapeDataString(jobId);

    private static JsonObject ReadJob(string path, string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip });
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{path} is not JSON: {ex.Message}");
        }

        return node switch
        {
            JsonObject job => job,
            JsonArray items => new JsonObject { ["payloads"] = items },
            _ => throw new CliException(ExitCodes.Usage, $"{path} must hold a JSON object (a job) or an array (its payload items)."),
        };
    }
}
