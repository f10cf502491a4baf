using System.Diagnostics;
using O2X.Streams.Stomp;

namespace O2X.Testing;

/// <summary>
/// A private ActiveMQ for tests that kill brokers (failover), started with scripts/activemq.sh like the shared one of
/// ./test.sh: STOMP and STOMP+TLS on loopback, user <c>o2x</c>. <see cref="StartStandbyAsync"/> starts a second instance on
/// the same KahaDB store: it waits for the store's lock and takes over when this one dies (Amazon MQ's active/standby).
/// </summary>
public sealed class ActiveMqBroker : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly bool _ownsDirectory;

    private readonly string _instance;

    private ActiveMqBroker(TempDirectory directory, bool ownsDirectory, string instance, IReadOnlyDictionary<string, string> endpoints)
    {
        _directory = directory;
        _ownsDirectory = ownsDirectory;
        _instance = instance;
        Pid = int.Parse(endpoints["PID"]);
        StompPort = int.Parse(endpoints["STOMP_PORT"]);
        StompSslPort = int.Parse(endpoints["STOMPSSL_PORT"]);
        CaPath = endpoints["CA"];
        Password = File.ReadAllText(endpoints["PASSWORD_FILE"]).Trim();
    }

    public int Pid { get; }

    public int StompPort { get; }

    public int StompSslPort { get; }

    public string CaPath { get; }

    public string User => "o2x";

    public string Password { get; }

    public string Stomp => $"stomp://127.0.0.1:{StompPort}";

    public string StompSsl => $"stomp+ssl://127.0.0.1:{StompSslPort}";

    private string Instance(string name) => Path.Combine(_directory.Path, name);

    /// <summary>The shared ActiveMQ of ./test.sh.</summary>
    public static StompConnectionSettings SharedSettings() =>
        new StompConnectionSettings(TestServices.ActiveMqStomp).WithCredentials(TestServices.ActiveMqUser, TestServices.ActiveMqPassword);

    public StompConnectionSettings Settings(string? address = null) => new StompConnectionSettings(address ?? Stomp).WithCredentials(User, Password);

    public static async Task<ActiveMqBroker> StartAsync()
    {
        var directory = new TempDirectory();
        var instance = Path.Combine(directory.Path, "active");
        var endpoints = await RunScriptAsync("start", instance, Path.Combine(directory.Path, "kahadb"));
        return new ActiveMqBroker(directory, ownsDirectory: true, instance, endpoints);
    }

    /// <summary>A standby on this broker's store: returns once it waits for the lock (its ports open only when it has it).</summary>
    public async Task<ActiveMqBroker> StartStandbyAsync()
    {
        var instance = Instance("standby-" + Guid.NewGuid().ToString("N")[..6]);
        var endpoints = await RunScriptAsync("start", instance, Path.Combine(_directory.Path, "kahadb"));
        return new ActiveMqBroker(_directory, ownsDirectory: false, instance, endpoints);
    }

    /// <summary>
    /// The end of this instance's console log and whether its process lives — for a test's failure message, before the
    /// directory is gone: a standby that never opened its ports says why there (lock, store recovery, a port taken).
    /// </summary>
    public string Diagnose(int lines = 25)
    {
        bool alive;
        try
        {
            using var process = Process.GetProcessById(Pid);
            alive = !process.HasExited;
        }
        catch (ArgumentException)
        {
            alive = false;
        }

        var log = Path.Combine(_instance, "console.log");
        var tail = File.Exists(log) ? File.ReadLines(log).TakeLast(lines) : ["(no console.log)"];
        return $"ActiveMQ pid {Pid} {(alive ? "alive" : "gone")}, STOMP {StompPort}, STOMP+TLS {StompSslPort}; console.log ends:\n{string.Join("\n", tail)}";
    }

    /// <summary><c>kill -9</c>: the broker dies with whatever it had in flight.</summary>
    public void Kill()
    {
        try
        {
            using var process = Process.GetProcessById(Pid);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        if (_ownsDirectory) _directory.Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task<IReadOnlyDictionary<string, string>> RunScriptAsync(params string[] arguments)
    {
        var output = await Commands.OutputAsync("bash", [Path.Combine(RepositoryLayout.Root, "scripts", "activemq.sh"), .. arguments], TimeSpan.FromSeconds(120));
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1]);
    }
}
