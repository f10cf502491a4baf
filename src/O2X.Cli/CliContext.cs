using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace O2X.Cli;

/// <summary>The global options, and how every command gets its client and prints.</summary>
public sealed class CliContext(AdminClient client, bool json, string? token)
{
    public static readonly Option<string> Node = new("--node", "-n")
    {
        Description = "Admin URL of any node (env O2X_NODE)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("O2X_NODE") is { Length: > 0 } node ? node : "http://127.0.0.1:9110",
    };

    public static readonly Option<string?> Token = new("--token")
    {
        // No default value factory: help would print the default, i.e. the token from the environment.
        Description = "Bearer token for nodes on other hosts: the node's O2X:Admin:Token (env O2X_ADMIN_TOKEN; never printed)",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json") { Description = "Print the node's JSON answer instead of tables", Recursive = true };

    public static readonly Option<int> Timeout = new("--timeout")
    {
        Description = "Seconds to wait for the node",
        Recursive = true,
        DefaultValueFactory = _ => 15,
    };

    public static IEnumerable<Option> GlobalOptions => [Node, Token, Json, Timeout];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public AdminClient Client => client;

    public bool IsJson => json;

    /// <summary>The token in use, for commands that open a client of their own (never printed).</summary>
    public string? AdminToken => token;

    /// <summary>Runs a command: builds the client from the global options, maps failures to exit codes and messages.</summary>
    public static void Action(Command command, Func<ParseResult, CliContext, CancellationToken, Task<int>> run) =>
        command.SetAction(async (parse, ct) =>
        {
            if (!Uri.TryCreate(parse.GetValue(Node), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                Console.Error.WriteLine($"--node must be an http(s) URL such as http://127.0.0.1:9110 (was '{parse.GetValue(Node)}').");
                return ExitCodes.Usage;
            }

            var token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable("O2X_ADMIN_TOKEN");
            using var client = new AdminClient(uri, token, TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(Timeout))));
            try
            {
                return await run(parse, new CliContext(client, parse.GetValue(Json), token), ct);
            }
            catch (CliException ex)
            {
                Console.Error.WriteLine("o2x: " + ex.Message);
                return ex.ExitCode;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Ok; // Ctrl+C on a tail
            }
        });

    /// <summary>A file's text, or standard input for <c>-</c>; an unreadable file is a usage error.</summary>
    public static async Task<string> ReadInputAsync(string path, CancellationToken ct)
    {
        try
        {
            return path == "-" ? await Console.In.ReadToEndAsync(ct) : await File.ReadAllTextAsync(path, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"Cannot read {path}: {ex.Message}");
        }
    }

    public void Print(JsonNode node) => Console.WriteLine(node.ToJsonString(Indented));

    public static void Table(string? title, string[] headers, IEnumerable<string?[]> rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        if (title is not null) table.Title(Markup.Escape(title));
        foreach (var header in headers) table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))));
        var any = false;
        foreach (var row in rows)
        {
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell ?? "—")));
            any = true;
        }

        if (!any) table.AddRow(headers.Select((_, i) => (IRenderable)new Text(i == 0 ? "(none)" : "")));
        AnsiConsole.Write(table);
    }

    public static string? S(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value => value.ToString(),
        _ => node.ToJsonString(),
    };
}
