using Npgsql;

namespace O2X.Testing;

/// <summary>
/// A private PostgreSQL server for tests that stop and start the database (outages), so they cannot disturb
/// the shared server other tests use. Uses the binaries ./test.sh installed (O2X_TEST_POSTGRES_BIN, or the
/// newest /usr/lib/postgresql/*/bin); runs as the postgres user when the tests run as root.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly string _bin;
    private readonly int _port;

    private PostgresServer(string bin, int port)
    {
        _bin = bin;
        _port = port;
    }

    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres;Timeout=5;Command Timeout=10";

    private string Data => Path.Combine(_directory.Path, "data");

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Environment.GetEnvironmentVariable("O2X_TEST_POSTGRES_BIN")
                  ?? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).OrderBy(d => d).LastOrDefault()
                  ?? throw new InvalidOperationException("PostgreSQL is not installed: run the tests with ./test.sh, which installs it.");
        var server = new PostgresServer(bin, NodeProcess.FreeTcpPort());
        if (IsRoot) await RunAsync("chown", "-R", "postgres:postgres", server._directory.Path);
        await server.AsPostgresAsync("initdb", "-D", server.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8");
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the (stopped) server again on the same port with the same data.</summary>
    public Task StartAgainAsync() => AsPostgresAsync("pg_ctl", "-D", Data, "-l", Path.Combine(_directory.Path, "server.log"), "-w", "-t", "60",
        "-o", $"-p {_port} -k {_directory.Path} -c listen_addresses=127.0.0.1 -c fsync=off", "start");

    /// <summary>Stops the server (fast shutdown: connections are cut, as in an outage).</summary>
    public async Task StopAsync()
    {
        await AsPostgresAsync("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");
        NpgsqlConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AsPostgresAsync("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // Already stopped by the test.
        }

        _directory.Dispose();
    }

    private static bool IsRoot => Environment.UserName == "root";

    private Task AsPostgresAsync(string tool, params string[] arguments) =>
        IsRoot
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments])
            : RunAsync(Path.Combine(_bin, tool), arguments);

    private static Task RunAsync(string program, params string[] arguments) => Commands.RunAsync(program, arguments, TimeSpan.FromSeconds(90));
}
