using System.Diagnostics;

namespace O2X.Testing;

/// <summary>Runs a command-line tool of the machine (pg_ctl, rabbitmqctl, chown…) and fails with its output when it fails.</summary>
public static class Commands
{
    public static Task RunAsync(string program, string[] arguments, TimeSpan timeout) => OutputAsync(program, arguments, timeout);

    /// <summary>Runs the tool and returns what it printed; fails with its output when it fails.</summary>
    public static async Task<string> OutputAsync(string program, string[] arguments, TimeSpan timeout)
    {
        var (exit, output, error) = await CaptureAsync(program, arguments, timeout);
        if (exit != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({exit}): {error}{output}");
        return output;
    }

    /// <summary>Runs the tool (with <paramref name="environment"/> added) and returns its exit code and output, whatever they are.</summary>
    public static async Task<(int Exit, string Output, string Error)> CaptureAsync(string program, string[] arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info) ?? throw new InvalidOperationException(program + " did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        return (process.ExitCode, await output, await error);
    }
}
