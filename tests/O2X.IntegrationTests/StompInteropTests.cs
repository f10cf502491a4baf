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
        var (exit, output, error) = await Commands.CaptureAsync("/usr/bin/python3",
            [Path.Combine(RepositoryLayout.Root, "tests", "O2X.IntegrationTests", "Scripts", "stomp_client.py"),
                port, prefix + "OMS", "py-order-1", order, "2", prefix + "OMS_RESPONSE", "1", "60"],
            TimeSpan.FromSeconds(120),
            new Dictionary<string, string> { ["O2X_TEST_ACTIVEMQ_USER"] = TestServices.ActiveMqUser, ["O2X_TEST_ACTIVEMQ_PASSWORD"] = TestServices.ActiveMqPassword });
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

    public void Dispose() => _data.Dispose();
}

/// <summary>Issue 17, migration aid: the seed's DLQ on ActiveMQ drained into O2X's dead letters and repaired with O2X's tools.</summary>
public sealed class ActiveMqDeadLetterImportTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private ActiveMqBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await ActiveMqBroker.StartAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task The_brokers_dlq_becomes_o2x_dead_letters_under_their_original_queue_and_a_requeue_takes_effect()
    {
        // What the old system left behind: an order its consumer gave up on, and a message of a queue O2X does not bind.
        await using (var legacy = await RawStompClient.ConnectAsync(_broker.StompPort, _broker.User, _broker.Password))
        {
            await legacy.SendAsync("/queue/OMS", HttpJson.SeedSample("oms/order-new.json"),
                new Dictionary<string, string> { ["message_id"] = "legacy-order-1", ["persistent"] = "true", ["x-origin"] = "spring" });
            await legacy.SendAsync("/queue/LEGACY_BILLING", "{\"run\":1}", new Dictionary<string, string> { ["persistent"] = "true" });
            foreach (var queue in new[] { "/queue/OMS", "/queue/LEGACY_BILLING" })
            {
                await legacy.SubscribeAsync(queue);
                var message = await legacy.ReceiveAsync(TimeSpan.FromSeconds(10));
                message.Should().NotBeNull();
                legacy.QueueNack(message!);
                await legacy.FlushAsync();
            }
        }

        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Transports:Stomp:Address"] = _broker.Stomp,
            ["O2X:Transports:Stomp:Username"] = _broker.User,
            ["O2X:Transports:Stomp:Password"] = _broker.Password,
            ["O2X:Bindings:OMS:Transport"] = "ActiveMq",
        }, _data.File("o2x.db"));
        var http = node.CreateClient();
        await Eventually.TrueAsync(async () => (await http.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the node is ready");

        // With the limit of what is there, the import ends at the last message rather than after the idle wait.
        var import = await http.PostAsync("/api/deadletters/import?limit=2", null);
        import.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, await import.Content.ReadAsStringAsync());
        var result = JsonNode.Parse(await import.Content.ReadAsStringAsync())!;
        result["imported"]!.GetValue<int>().Should().Be(2);
        result["queues"]!.AsArray().Select(q => $"{q!["queue"]}={q["imported"]}").Should().Equal("LEGACY_BILLING=1", "OMS=1");

        var letters = JsonNode.Parse(await http.GetStringAsync("/api/deadletters?queue=OMS"))!["items"]!.AsArray();
        var letter = letters.Should().ContainSingle().Subject!;
        letter["message_id"]!.GetValue<string>().Should().Be("legacy-order-1");
        letter["exception_type"]!.GetValue<string>().Should().Be("ActiveMQ.DLQ");
        var detail = JsonNode.Parse(await http.GetStringAsync($"/api/deadletters/{letter["id"]}"))!;
        detail["headers"]!["original-destination"]!.GetValue<string>().Should().Be("/queue/OMS");
        detail["headers"]!["x-origin"]!.GetValue<string>().Should().Be("spring", "the original headers are kept");

        // A second import finds the DLQ empty: the broker's copies were acknowledged once stored.
        var again = JsonNode.Parse(await (await http.PostAsync("/api/deadletters/import", null)).Content.ReadAsStringAsync())!;
        again["imported"]!.GetValue<int>().Should().Be(0);

        (await http.PostAsync($"/api/deadletters/{letter["id"]}/requeue", null)).StatusCode.Should().Be(System.Net.HttpStatusCode.Accepted);
        await Eventually.TrueAsync(async () => (await http.GetAsync("/api/orders/ORD-20240211-001")).IsSuccessStatusCode, TimeSpan.FromSeconds(60),
            "the requeued order goes back onto OMS on ActiveMQ and is taken");
    }
}

/// <summary>An import that cannot reach the broker says so; it never reports an empty DLQ it did not read.</summary>
public sealed class ActiveMqDeadLetterImportFailureTests : IDisposable
{
    private readonly TempDirectory _data = new();

    [Fact]
    public async Task An_import_with_wrong_credentials_answers_503_with_the_brokers_refusal_and_not_the_password()
    {
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Transports:Stomp:Address"] = TestServices.ActiveMqStomp,
            ["O2X:Transports:Stomp:Username"] = TestServices.ActiveMqUser,
            ["O2X:Transports:Stomp:Password"] = "wrong-password-77",
        }, _data.File("o2x.db"));
        var http = node.CreateClient();

        var import = await http.PostAsync("/api/deadletters/import", null);
        var problem = await import.Content.ReadAsStringAsync();

        import.StatusCode.Should().Be(System.Net.HttpStatusCode.ServiceUnavailable, problem);
        problem.Should().Contain("BROKER_UNAVAILABLE").And.Contain("refused the connection").And.NotContain("wrong-password-77");
    }

    [Theory]
    [InlineData("?source=../../etc/passwd")]
    [InlineData("?source=ActiveMQ.DLQ%0D%0Aselector:1")]
    [InlineData("?limit=0")]
    [InlineData("?limit=1001")]
    public async Task An_import_with_a_bad_source_or_limit_is_a_400_naming_the_field_before_any_broker_is_asked(string query)
    {
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Transports:Stomp:Address"] = "stomp://127.0.0.1:1",
        }, _data.File("o2x.db"));

        var answer = await node.CreateClient().PostAsync("/api/deadletters/import" + query, null);

        answer.StatusCode.Should().Be(System.Net.HttpStatusCode.BadRequest);
        (await answer.Content.ReadAsStringAsync()).Should().Contain("INVALID_FIELD");
    }

    public void Dispose() => _data.Dispose();
}

/// <summary>Hostile input over ActiveMQ: a message larger than the connection will hold is refused once, and nothing stalls behind it.</summary>
public sealed class StompHostileInputTests : IDisposable
{
    private readonly TempDirectory _data = new();

    [Fact]
    public async Task A_message_over_the_frame_limit_goes_to_the_error_destination_once_and_the_next_order_is_taken()
    {
        await using var running = await TransportNode.StartAsync("Stomp", ["OMS"], ["OMS_ERROR", "OMS_RESPONSE"], _data.File("o2x.db"),
            new Dictionary<string, string?> { ["O2X:Outbox:PollInterval"] = "00:00:00.05" });
        var (driver, http) = (running.Driver, running.Http);

        // 17 MiB: over the connection's 16 MiB frame limit (ActiveMQ itself takes up to 100 MB).
        await driver.SendAsync("OMS", "{\"blob\":\"" + new string('x', 17 * 1024 * 1024) + "\"}", "too-big-1");
        await driver.SendAsync("OMS", HttpJson.SeedSample("oms/order-new.json"), "after-the-big-one");

        await Eventually.TrueAsync(async () => (await http.GetAsync("/api/orders/ORD-20240211-001")).IsSuccessStatusCode, TimeSpan.FromSeconds(60),
            "the order behind the oversized message is taken");
        var errors = await Eventually.ReturnsAsync(() => driver.ReadAsync("OMS_ERROR"), e => e.Count >= 1, TimeSpan.FromSeconds(60), "the refusal");
        var error = JsonNode.Parse(errors.Single().Body)!;
        error["errorCode"]!.GetValue<string>().Should().Be("INVALID_MESSAGE");
        error["messageId"]!.GetValue<string>().Should().Be("too-big-1");
        var binding = running.Node.Services.GetRequiredService<BrokerBindings>().Running["OMS"];
        binding.Control.Status.Snapshot.Reconnects.Should().Be(0, "the connection read past the body instead of breaking on it");
        (await http.GetAsync("/health/ready")).IsSuccessStatusCode.Should().BeTrue();
    }

    public void Dispose() => _data.Dispose();
}
