using System.Diagnostics;

namespace O2X.Testing;

/// <summary>
/// A private RabbitMQ broker (AMQP 0-9-1 and 1.0, management) for tests that restart the broker, so they cannot
/// disturb the shared broker other tests use. Needs rabbitmq-server (installed by ./test.sh) and root.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly string _node;

    private RabbitMqServer(string node, int amqpPort, int managementPort)
    {
        _node = node;
        AmqpPort = amqpPort;
        ManagementPort = managementPort;
    }

    public int AmqpPort { get; }

    public int ManagementPort { get; }

    public Uri AmqpUri => new($"amqp://guest:guest@127.0.0.1:{AmqpPort}/");

    public Uri ManagementUri => new($"http://guest:guest@127.0.0.1:{ManagementPort}/");

    public static async Task<RabbitMqServer> StartAsync()
    {
        var server = new RabbitMqServer($"o2xprivate{Environment.ProcessId}x{Random.Shared.Next(100_000)}@localhost",
            NodeProcess.FreeTcpPort(), NodeProcess.FreeTcpPort());
        var dir = server._directory.Path;
        Directory.CreateDirectory(Path.Combine(dir, "mnesia"));
        Directory.CreateDirectory(Path.Combine(dir, "log"));
        await File.WriteAllTextAsync(Path.Combine(dir, "plugins"), "[rabbitmq_amqp1_0,rabbitmq_management].");
        await RunAsync("chown", "-R", "rabbitmq:rabbitmq", dir);
        await RunAsync("chmod", "755", dir);

        // Detached, with its output in a file: it must outlive this Process object (and never write to a closed pipe).
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"setsid rabbitmq-server > '{Path.Combine(dir, "server.out")}' 2>&1 < /dev/null &");
        info.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(dir, "mnesia");
        info.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(dir, "log");
        info.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(dir, "plugins");
        info.Environment["RABBITMQ_FEATURE_FLAGS_FILE"] = Path.Combine(dir, "feature_flags");
        info.Environment["RABBITMQ_NODENAME"] = server._node;
        info.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        info.Environment["RABBITMQ_NODE_PORT"] = server.AmqpPort.ToString();
        info.Environment["RABBITMQ_DIST_PORT"] = NodeProcess.FreeTcpPort().ToString();
        info.Environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = $"-rabbitmq_management tcp_config [{{ip,\"127.0.0.1\"}},{{port,{server.ManagementPort}}}]";
        using (var shell = Process.Start(info) ?? throw new InvalidOperationException("rabbitmq-server did not start"))
            await shell.WaitForExitAsync();

        try
        {
            await server.WaitUntilServingAsync();
        }
        catch (TimeoutException ex)
        {
            var output = File.Exists(Path.Combine(dir, "server.out")) ? await File.ReadAllTextAsync(Path.Combine(dir, "server.out")) : "";
            throw new TimeoutException($"The private RabbitMQ did not start: {output}", ex);
        }
        return server;
    }

    /// <summary>Stops the RabbitMQ application (every connection drops), keeping its data.</summary>
    public Task StopAppAsync() => RunAsync("rabbitmqctl", "-n", _node, "stop_app");

    public async Task StartAppAsync()
    {
        await RunAsync("rabbitmqctl", "-n", _node, "start_app");
        await WaitUntilServingAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("rabbitmqctl", "-n", _node, "stop");
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _directory.Dispose();
    }

    private async Task WaitUntilServingAsync()
    {
        await Eventually.TrueAsync(async () =>
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync("127.0.0.1", AmqpPort);
            return true;
        }, TimeSpan.FromSeconds(90), "the private RabbitMQ accepts AMQP connections");
    }

    private static Task RunAsync(string program, params string[] arguments) => Commands.RunAsync(program, arguments, TimeSpan.FromSeconds(120));
}
