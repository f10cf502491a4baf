using System.CommandLine;
using O2X.Cli;
using Spectre.Console;

if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200; // tables in logs and pipes are not cut at 80 columns

var root = new RootCommand(
    "o2x — administer an O2X cluster through any node's admin API (default http://127.0.0.1:9110, the node's O2X:Admin:Url).\n" +
    "Exit codes: 0 ok, 1 the node said no, 2 usage, 3 node unreachable, 4 not authorized, 5 not healthy.");
foreach (var option in CliContext.GlobalOptions) root.Options.Add(option);
root.Subcommands.Add(ClusterCommands.Create());
root.Subcommands.Add(ShardingCommands.Create());
root.Subcommands.Add(QueueCommands.Create());
root.Subcommands.Add(DeadLetterCommands.Create());
root.Subcommands.Add(EntityCommands.Orders());
root.Subcommands.Add(EntityCommands.Accounts());
root.Subcommands.Add(EntityCommands.Send());
root.Subcommands.Add(EntityCommands.Health());
root.Subcommands.Add(BulkCommands.Create());
root.Subcommands.Add(BillingCommands.Create());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine("Run 'o2x --help' (or 'o2x <command> --help') for usage.");
    return ExitCodes.Usage;
}

return await parse.InvokeAsync();
