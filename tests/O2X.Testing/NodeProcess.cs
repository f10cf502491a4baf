using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace O2X.Testing;

/// <summary>
/// A real O2X node as a separate operating-system process (<c>dotnet O2X.Host.dll</c>), for tests of what
/// an operator sees: first run, restarts, SIGTERM, <c>kill -9</c>, several nodes on loopback.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private NodeProcess(Process process, Uri baseAddress, Uri? adminAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        AdminAddress = adminAddress;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }

    /// <summary>
    /// The node's admin listener (a free loopback port of its own, so nodes can run side by side): where the o2x tool and the
    /// console make changes without a token on a node that trusts local callers. Null when the test turned it off.
    /// </summary>
    public Uri? AdminAddress { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private const string NodeOnlyPrefix = "O2X_NODE_ENV_";

    /// <summary>Starts a node in <paramref name="workingDirectory"/> and waits until its HTTP API answers.</summary>
    public static async Task<NodeProcess> StartAsync(string workingDirectory, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var port = FreeTcpPort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RepositoryLayout.HostAssembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // An admin listener on a port of its own (not 9110): several nodes run side by side here.
        info.Environment["O2X__Admin__Url"] = $"http://127.0.0.1:{FreeTcpPort()}";
        // Bill runs start by hand in tests: a scheduled run over every account would load the node beside what a test measures.
        info.Environment["O2X__Billing__ScheduleEnabled"] = "false";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        // O2X_NODE_ENV_<NAME>=value sets <NAME> for the node only (DOTNET_gcServer, say, without changing the benchmark's own runtime).
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
            if (variable.Key is string name && name.StartsWith(NodeOnlyPrefix, StringComparison.Ordinal) && name.Length > NodeOnlyPrefix.Length)
                info.Environment[name[NodeOnlyPrefix.Length..]] = variable.Value as string;
        var admin = info.Environment["O2X__Admin__Url"] is { Length: > 0 } url ? new Uri(url.TrimEnd('/') + "/") : null;

        var node = new NodeProcess(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start"), new Uri($"http://127.0.0.1:{port}/"),
            admin);
        try
        {
            using var http = new HttpClient { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.TrueAsync(async () =>
            {
                if (node.HasExited) throw new InvalidOperationException($"The node exited with {node._process.ExitCode}:\n{node.Output}");
                var response = await http.GetAsync("api/orders/startup-probe");
                return response.StatusCode == HttpStatusCode.NotFound;
            }, timeout ?? TimeSpan.FromSeconds(60), "the node answers HTTP");
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    /// <summary>Sends SIGTERM (graceful shutdown) and waits for the process to exit; returns its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited) _ = kill(_process.Id, 15);
        await _process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process dies without any chance to clean up.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>
    /// A free loopback port below the kernel's ephemeral range (<c>net.ipv4.ip_local_port_range</c>), like scripts/services.sh
    /// picks: the servers given these ports bind them again later — a restarted PostgreSQL or RabbitMQ, a node started
    /// again — and a port from the ephemeral range can meanwhile be the local port of any outgoing connection on the machine.
    /// </summary>
    public static int FreeTcpPort()
    {
        var low = EphemeralLow();
        for (var attempt = 0; low > LowestPort + 1000 && attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(LowestPort, low);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: another one.
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0); // an unusual ephemeral range: the kernel's choice
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private const int LowestPort = 20000;

    private static int EphemeralLow()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768; // Linux's default
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
