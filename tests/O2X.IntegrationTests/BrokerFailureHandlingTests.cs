using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using O2X.Host.Ingestion;
using O2X.Host.Testing;
using O2X.Streams.Messaging;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>
/// A test-only custom queue handler (seed §3.3: a config entry plus a handler class): <c>fail:N</c> fails
/// retryably N times per message id, <c>fail:forever</c> until <see cref="Heal"/> is called, anything else succeeds.
/// </summary>
[QueueHandler(Name)]
public sealed class FlakyTestHandler : IMessageHandler
{
    public const string Name = "IntegrationTests.Flaky";

    private static readonly ConcurrentDictionary<string, int> Attempts = new();
    private static volatile bool _healed;

    public static int AttemptsOf(string messageId) => Attempts.GetValueOrDefault(messageId);

    public static void Heal() => _healed = true;

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        var body = Encoding.UTF8.GetString(envelope.Body.Span);
        return new HandlingPlan(envelope.MessageId, _ =>
        {
            var attempt = Attempts.AddOrUpdate(envelope.MessageId, 1, (_, n) => n + 1);
            var failing = body == "fail:forever" ? !_healed : body.StartsWith("fail:", StringComparison.Ordinal) && attempt <= int.Parse(body[5..]);
            if (failing) throw new TimeoutException($"downstream timed out (attempt {attempt})");
            return Task.FromResult<HandlingOutcome>(HandlingOutcome.ProcessedWith(("attempt", attempt.ToString())));
        });
    }
}

/// <summary>Issue "Failure handling" on a real broker: retries, dead letters and requeue work the same on RabbitMQ as over HTTP.</summary>
public sealed class BrokerFailureHandlingTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _data = new();
    private readonly RabbitMqManagement _management = RabbitMqManagement.Shared();
    private readonly string _queue = "it-flaky-" + Guid.NewGuid().ToString("N")[..8];
    private O2XNodeFactory _node = null!;

    public Task InitializeAsync()
    {
        _node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Transports:RabbitMq:Uri"] = TestServices.RabbitMqUri.ToString(),
            ["O2X:Bindings:FLAKY:Handler"] = FlakyTestHandler.Name,
            ["O2X:Bindings:FLAKY:Transport"] = "Amqp091",
            ["O2X:Bindings:FLAKY:Address"] = _queue,
            ["O2X:Bindings:FLAKY:QueueType"] = "Classic",
            ["O2X:Bindings:FLAKY:Retry:InitialDelay"] = "00:00:00.05",
            ["O2X:Bindings:FLAKY:Retry:MaxDelay"] = "00:00:00.2",
            ["O2X:Bindings:FLAKY:Retry:MaxRedeliveries"] = "3",
            ["O2X:Bindings:FLAKY:CircuitBreaker:MaxFailures"] = "100",
            ["O2X:Admin:MetricsSampleInterval"] = "00:00:00.2",
        }, _data.File("o2x.db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _management.DeleteQueueAsync(_queue);
        _management.Dispose();
        _data.Dispose();
    }

    [Fact]
    public async Task Messages_published_by_the_management_api_are_retried_dead_lettered_and_requeued_onto_the_broker()
    {
        var http = _node.CreateClient();
        var brokers = _node.Services.GetRequiredService<BrokerBindings>();
        var counters = brokers.Running["FLAKY"].Counters;
        await Eventually.TrueAsync(() => brokers.Running["FLAKY"].Control.Status.State == Streams.Connectors.ConnectionState.Connected,
            Deadline, "the binding connects and declares its queue");

        await _management.PublishAsync(_queue, "fail:2", "recovers");
        await _management.PublishAsync(_queue, "fail:forever", "poison");

        await Eventually.TrueAsync(() => counters.Acked == 2, Deadline, "both messages are settled: one processed, one dead-lettered");
        counters.DeadLettered.Should().Be(1);
        counters.Released.Should().Be(0, "retries happen in O2X with backoff, not by bouncing the message off the broker");
        FlakyTestHandler.AttemptsOf("recovers").Should().Be(3);
        FlakyTestHandler.AttemptsOf("poison").Should().Be(4, "the first attempt and three redeliveries");
        (await _management.QueueDepthAsync(_queue)).Should().Be((0, 0));

        var letters = JsonNode.Parse(await http.GetStringAsync("/api/deadletters?queue=FLAKY"))!["items"]!.AsArray();
        var letter = letters.Should().ContainSingle().Subject!;
        letter["message_id"]!.GetValue<string>().Should().Be("poison");
        letter["exception_type"]!.GetValue<string>().Should().Be("System.TimeoutException");
        var dlq = JsonNode.Parse(await http.GetStringAsync("/api/outbox/FLAKY.DLQ"))!["items"]!.AsArray();
        dlq.Should().ContainSingle("the dead letter is also published to the binding's dead-letter destination");

        // The broker's side and the dead letters, as /metrics shows them to Prometheus.
        await Eventually.TrueAsync(async () =>
        {
            var metrics = await http.GetStringAsync("/metrics");
            return metrics.Contains("o2x_queue_consumers{queue=\"FLAKY\"} 1\n") && metrics.Contains("o2x_queue_depth{queue=\"FLAKY\"} 0\n")
                   && metrics.Contains("o2x_dead_letters{queue=\"FLAKY\"} 1\n") && metrics.Contains("o2x_message_retries_total{queue=\"FLAKY\"} 5\n");
        }, Deadline, "depth, consumers, dead letters and retries are sampled");

        FlakyTestHandler.Heal();
        var requeue = await http.PostAsync($"/api/deadletters/{letter["id"]}/requeue", null);
        requeue.StatusCode.Should().Be(HttpStatusCode.Accepted);

        await Eventually.TrueAsync(() => counters.Received == 3 && counters.Acked == 3, Deadline,
            "the requeued message comes back through RabbitMQ and is processed");
        FlakyTestHandler.AttemptsOf("poison").Should().Be(5, "the requeue is one more delivery, with a fresh retry budget");
        var after = JsonNode.Parse(await http.GetStringAsync($"/api/deadletters/{letter["id"]}"))!;
        after["dead_letter"]!["status"]!.GetValue<string>().Should().Be("REQUEUED");
    }
}
