using System.CommandLine;
using System.Text.Json.Nodes;
using static O2X.Cli.CliContext;

namespace O2X.Cli;

/// <summary><c>o2x billing run | runs | show</c>: the monthly bill run through <c>/api/billing/runs</c>.</summary>
public static class BillingCommands
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var command = new Command("billing", "The monthly bill run: start one for a period, list runs, show a run's accounts");
        command.Subcommands.Add(Run());
        command.Subcommands.Add(Runs());
        command.Subcommands.Add(Show());
        return command;
    }

    private static Command Run()
    {
        var period = new Option<string>("--period") { Description = "The month to bill, yyyy-MM (each account's cycle that starts in it)", Required = true };
        var account = new Option<string?>("--account") { Description = "Bill this account only" };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the run is queued instead of following it" };
        var run = new Command("run", "Start a bill run and follow it to the end; exit code 1 if any account failed. Billing a period again bills nothing twice")
        {
            period, account, noWait,
        };
        Action(run, async (parse, c, ct) =>
        {
            var body = new JsonObject { ["period"] = parse.GetValue(period) };
            if (parse.GetValue(account) is { } id) body["account_id"] = id;
            var started = await c.Client.PostAsync("api/billing/runs", ct, AdminClient.Json(body.ToJsonString()));
            var runId = S(started["run_id"])!;
            if (parse.GetValue(noWait))
            {
                if (c.IsJson) c.Print(started);
                else Console.WriteLine($"Bill run {runId} queued for {S(started["period"])}");
                return ExitCodes.Ok;
            }

            JsonNode state;
            var last = "";
            while (true)
            {
                state = await c.Client.GetAsync(RunPath(runId), ct);
                var line = $"{runId}: {S(state["status"])}, {S(state["accounts"])} accounts, {S(state["invoiced"])} invoiced";
                if (!c.IsJson && line != last) Console.WriteLine(line);
                last = line;
                if (S(state["status"]) is not ("RUNNING" or "QUEUED")) break;
                await Task.Delay(Poll, ct);
            }

            if (c.IsJson) c.Print(state);
            else PrintRun(state);
            return S(state["status"]) == "COMPLETED" && state["failed"]!.GetValue<int>() == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return run;
    }

    private static Command Runs()
    {
        var limit = new Option<int>("--limit") { Description = "How many runs, newest first", DefaultValueFactory = _ => 20 };
        var runs = new Command("runs", "Recent bill runs, newest first") { limit };
        Action(runs, async (parse, c, ct) =>
        {
            var list = await c.Client.GetAsync($"api/billing/runs?limit={parse.GetValue(limit)}", ct);
            if (c.IsJson)
            {
                c.Print(list);
                return ExitCodes.Ok;
            }

            Table("bill runs", ["run", "period", "account", "trigger", "status", "accounts", "invoiced", "already", "nothing", "not ended", "failed", "amount", "started"],
                list["items"]!.AsArray().Select(r => new[]
                {
                    S(r!["run_id"]), S(r["period"]), S(r["account_id"]) ?? "all", S(r["trigger"]), S(r["status"]), S(r["accounts"]), S(r["invoiced"]),
                    S(r["already_billed"]), S(r["nothing_to_bill"]), S(r["not_ended"]), S(r["failed"]), S(r["amount"]), S(r["started_at"]),
                }));
            return ExitCodes.Ok;
        });
        return runs;
    }

    private static Command Show()
    {
        var id = new Argument<string>("run") { Description = "The run id" };
        var outcome = new Option<string?>("--outcome") { Description = "Only accounts with this outcome: INVOICED, ALREADY_BILLED, NOTHING_TO_BILL, NOT_ENDED, FAILED" };
        var show = new Command("show", "A bill run's counts and its accounts' results (first 100; --json for the page)") { id, outcome };
        Action(show, async (parse, c, ct) =>
        {
            var runId = parse.GetValue(id)!;
            var state = await c.Client.GetAsync(RunPath(runId), ct);
            var query = parse.GetValue(outcome) is { } o ? "?outcome=" + Uri.EscapeDataString(o) : "";
            var accounts = await c.Client.GetAsync(RunPath(runId) + "/accounts" + query, ct);
            if (c.IsJson)
            {
                c.Print(new JsonObject { ["run"] = state.DeepClone(), ["accounts"] = accounts.DeepClone() });
                return ExitCodes.Ok;
            }

            PrintRun(state);
            Table("accounts", ["account", "outcome", "invoice", "amount", "code", "reason"],
                accounts["items"]!.AsArray().Select(a => new[]
                {
                    S(a!["account_id"]), S(a["outcome"]), S(a["invoice_number"]), S(a["amount"]), S(a["error_code"]), S(a["reason"]),
                }));
            return ExitCodes.Ok;
        });
        return show;
    }

    private static void PrintRun(JsonNode r) =>
        Table($"bill run {S(r["run_id"])}", ["", "value"], new[]
        {
            new[] { "period", S(r["period"]) }, ["account", S(r["account_id"]) ?? "all"], ["status", S(r["status"])], ["accounts", S(r["accounts"])],
            ["invoiced", S(r["invoiced"])], ["already billed", S(r["already_billed"])], ["nothing to bill", S(r["nothing_to_bill"])],
            ["cycle not ended", S(r["not_ended"])], ["failed", S(r["failed"])], ["amount", S(r["amount"])], ["started", S(r["started_at"])],
            ["finished", S(r["finished_at"])], ["error", S(r["error"])],
            ["unknown accounts", r["unknown_usage"] is { } u && u.GetValue<int>() > 0 ? $"{S(u)} rated records of {S(r["unknown_accounts"])} account ids (not billed)" : null],
        });

    private static string RunPath(string runId) => "api/billing/runs/" + Uri.EscapeDataString(runId);
}
