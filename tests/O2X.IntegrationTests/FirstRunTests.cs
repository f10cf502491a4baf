using System.Net;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>
/// What a new user does: start the node binary with no configuration in an empty directory, send the
/// seed order, stop it with SIGTERM, start it again.
/// </summary>
public sealed class FirstRunTests : IDisposable
{
    private readonly TempDirectory _workingDirectory = new();

    [Fact]
    public async Task A_node_started_with_no_setup_keeps_orders_across_a_graceful_restart()
    {
        var environment = new Dictionary<string, string> { ["O2X__Node__Port"] = "0" };
        await using (var node = await NodeProcess.StartAsync(_workingDirectory.Path, environment))
        {
            using var http = new HttpClient { BaseAddress = node.BaseAddress };
            var response = await http.SendAsync(HttpJson.Post("api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")));
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, node.Output);

            (await node.StopAsync()).Should().Be(0, "SIGTERM is a graceful shutdown:\n" + node.Output);
        }

        File.Exists(Path.Combine(_workingDirectory.Path, "data", "o2x.db")).Should().BeTrue("the default SQLite journal is created on first run");

        await using var restarted = await NodeProcess.StartAsync(_workingDirectory.Path, environment);
        using var again = new HttpClient { BaseAddress = restarted.BaseAddress };
        var order = await again.GetAsync("api/orders/ORD-20240211-001");
        order.StatusCode.Should().Be(HttpStatusCode.OK, restarted.Output);
    }

    public void Dispose() => _workingDirectory.Dispose();
}
