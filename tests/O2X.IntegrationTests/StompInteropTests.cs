using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using O2X.Host.Bindings;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>
/// Issue 17, done-when: a message published by an independent STOMP client (stomp.py, Debian's python3-stomp) reaches O2X
/// with its id, and O2X's response is read by that client — the seed's systems on ActiveMQ talking to O2X unchanged.
/// </summary>
public sealed class StompInteropTests : IDisposable
{
    private readonly TempDirectory _data = new();

    [Fact]
    public async Task An_order_sent_by_stomp_py_is_taken_once_by_its_id_and_stomp_py_reads_the_response()
    {
        var prefix = "itpy-" + Guid.NewGuid().ToString("N")[..8] + "-";
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Transports:Stomp:Address"] = TestServices.ActiveMqStomp,
            ["O2X:Transports:Stomp:Username"] = TestServices.ActiveMqUser,
            ["O2X:Transports:Stomp:Password"] = TestServices.ActiveMqPassword,
            ["O2X:Transports:Stomp:DestinationTemplate"] = "/queue/" + prefix + "{queue}",
            ["O2X:Bindings:OMS:Transport"] = "ActiveMq",
            ["O2X:Destinations:OMS_RESPONSE:Transport"] = "ActiveMq",
            ["O2X:Outbox:PollInterval"] = "00:00:00.05",
        }, _data.File("o2x.db"));
        var http = node.CreateClient();
        await Eventually.TrueAsync(async () => (await http.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the node is ready");

        var order = _data.File("order.json");
        await File.WriteAllTextAsync(order, HttpJson.SeedSample("oms/order-new.json"));
        var port = TestServices.ActiveMqStomp[(TestServices.ActiveMqStomp.LastIndexOf(':') + 1)..];
        // Sent twice under one message_id (a producer's redelivery): O2X must recognise the id and answer once.
        var (exit, output, error) = await RunAsync("/usr/bin/python3", Path.Combine(RepositoryLayout.Root, "tests", "O2X.IntegrationTests", "Scripts", "stomp_client.py"),
            port, prefix + "OMS", "py-order-1", order, "2", prefix + "OMS_RESPONSE", "1", "60");
        exit.Should().Be(0, $"stomp.py received O2X's response (stdout: {output}, stderr: {error})");

        var response = JsonNode.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single())!;
        response["body"]!.GetValue<string>().Should().Contain("ORD-20240211-001");
        response["message_id"]!.GetValue<string>().Should().NotBeNullOrEmpty("O2X's message id travels as the message_id header");

        var counters = node.Services.GetRequiredService<BrokerBindings>().Running["OMS"].Counters;
        await Eventually.TrueAsync(() => counters.Acked == 2, TimeSpan.FromSeconds(30), "both copies are settled");
        counters.Duplicates.Should().Be(1, "the second copy carries the same message_id: O2X knows it by that id");
        var outbox = JsonNode.Parse(await http.GetStringAsync("/api/outbox/OMS_RESPONSE"))!["items"]!.AsArray();
        outbox.Should().ContainSingle("one order, one response");
        outbox[0]!["message_id"]!.GetValue<string>().Should().Be(response["message_id"]!.GetValue<string>());
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["O2X_TEST_ACTIVEMQ_USER"] = TestServices.ActiveMqUser;
        start.Environment["O2X_TEST_ACTIVEMQ_PASSWORD"] = TestServices.ActiveMqPassword;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await output, await error);
    }

    public void Dispose() => _data.Dispose();
}
