using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using O2X.Host.Testing;
using O2X.Actors.Messaging;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>
/// A test-only custom queue handler (seed §3.3: a config entry plus a handler class): <c>fail:N</c> fails
/// retryably N times per message id, <c>fail:forever</c> until <see cref="Heal"/> is called for the id, anything
/// else succeeds.
/// </summary>
[QueueHandler(Name)]
public sealed class FlakyTestHandler : IMessageHandler
{
    public const string Name = "IntegrationTests.Flaky";

    private static readonly ConcurrentDictionary<string, int> Attempts = new();
    private static readonly ConcurrentDictionary<string, bool> Healed = new();

    public static int AttemptsOf(string messageId) => Attempts.GetValueOrDefault(messageId);

    public static void Heal(string messageId) => Healed[messageId] = true;

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        var body = Encoding.UTF8.GetString(envelope.Body.Span);
        return new HandlingPlan(envelope.MessageId, _ =>
        {
            var attempt = Attempts.AddOrUpdate(envelope.MessageId, 1, (_, n) => n + 1);
            var failing = body == "fail:forever"
                ? !Healed.ContainsKey(envelope.MessageId)
                : body.StartsWith("fail:", StringComparison.Ordinal) && attempt <= int.Parse(body[5..]);
            if (failing) throw new TimeoutException($"downstream timed out (attempt {attempt})");
            return Task.FromResult<HandlingOutcome>(HandlingOutcome.ProcessedWith(("attempt", attempt.ToString())));
        });
    }
}

/// <summary>
/// Issue "Failure handling", done-when: the same failure test on the embedded transport, RabbitMQ (AMQP 0-9-1
/// and 1.0) and Kafka — retries with backoff inside O2X, exhausted retries to the dead-letter store, requeue
/// back onto the transport, and what /metrics shows about it.
/// </summary>
public sealed class BrokerFailureHandlingTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _data = new();

    [Theory]
    [InlineData("Embedded")]
    [InlineData("Amqp091")]
    [InlineData("Amqp10")]
    [InlineData("Kafka")]
    [InlineData("Stomp")]
    public async Task Messages_are_retried_dead_lettered_and_requeued_onto_their_transport(string transport)
    {
        await using var running = await TransportNode.StartAsync(transport, ["FLAKY"], [], _data.File("o2x.db"), new Dictionary<string, string?>
        {
            ["O2X:Bindings:FLAKY:Handler"] = FlakyTestHandler.Name,
            ["O2X:Bindings:FLAKY:Retry:InitialDelay"] = "00:00:00.05",
            ["O2X:Bindings:FLAKY:Retry:MaxDelay"] = "00:00:00.2",
            ["O2X:Bindings:FLAKY:Retry:MaxRedeliveries"] = "3",
            ["O2X:Bindings:FLAKY:CircuitBreaker:MaxFailures"] = "100",
            ["O2X:Admin:MetricsSampleInterval"] = "00:00:00.2",
        });
        var (driver, http) = (running.Driver, running.Http);
        var recovers = transport + "-recovers";
        var poison = transport + "-poison";

        await driver.SendAsync("FLAKY", "fail:2", recovers);
        await driver.SendAsync("FLAKY", "fail:forever", poison);

        await Eventually.TrueAsync(async () => Handled(await Metrics(http), "processed") == 1 && Handled(await Metrics(http), "dead_lettered") == 1,
            Deadline, "one message recovers after two retries, the other is dead-lettered");
        var metrics = await Metrics(http);
        Handled(metrics, "failed").Should().Be(0, "retries happen in O2X with backoff, not by bouncing the message off the transport");
        Gauge(metrics, "o2x_message_retries_total").Should().Be(5, "two retries of one, three of the other");
        FlakyTestHandler.AttemptsOf(recovers).Should().Be(3);
        FlakyTestHandler.AttemptsOf(poison).Should().Be(4, "the first attempt and three redeliveries");

        var letters = JsonNode.Parse(await http.GetStringAsync("/api/deadletters?queue=FLAKY"))!["items"]!.AsArray();
        var letter = letters.Should().ContainSingle().Subject!;
        letter["message_id"]!.GetValue<string>().Should().Be(poison);
        letter["exception_type"]!.GetValue<string>().Should().Be("System.TimeoutException");
        letter["attempts"]!.GetValue<int>().Should().Be(4);
        (await http.OutboxAtLeastAsync("FLAKY.DLQ", 1)).Should().ContainSingle("the dead letter is also published to the binding's dead-letter destination");
        await Eventually.TrueAsync(async () => (await Metrics(http)).Contains("o2x_dead_letters{queue=\"FLAKY\"} 1\n"), Deadline,
            "the dead letter shows in /metrics");
        if (transport == "Amqp091")
            await Eventually.TrueAsync(async () =>
            {
                var m = await Metrics(http);
                return m.Contains("o2x_queue_consumers{queue=\"FLAKY\"} 1\n") && m.Contains("o2x_queue_depth{queue=\"FLAKY\"} 0\n");
            }, Deadline, "RabbitMQ's depth and consumers are sampled");
        if (transport == "Stomp")
            await Eventually.TrueAsync(async () =>
            {
                var m = await Metrics(http);
                return m.Contains("o2x_queue_consumers{queue=\"FLAKY\"} 1\n") && m.Contains("o2x_queue_depth{queue=\"FLAKY\"} 0\n")
                       && Gauge(m, "o2x_queue_enqueued") == 2 && Gauge(m, "o2x_queue_dequeued") == 2;
            }, Deadline, "ActiveMQ's statistics plugin is sampled: size, consumers, enqueued and dequeued (seed §7.1)");

        FlakyTestHandler.Heal(poison);
        var requeue = await http.PostAsync($"/api/deadletters/{letter["id"]}/requeue", null);
        requeue.StatusCode.Should().Be(HttpStatusCode.Accepted);

        await Eventually.TrueAsync(async () => Handled(await Metrics(http), "processed") == 2, Deadline,
            $"the requeued message comes back through {transport} and is processed");
        FlakyTestHandler.AttemptsOf(poison).Should().Be(5, "the requeue is one more delivery, with a fresh retry budget");
        var after = JsonNode.Parse(await http.GetStringAsync($"/api/deadletters/{letter["id"]}"))!;
        after["dead_letter"]!["status"]!.GetValue<string>().Should().Be("REQUEUED");
        await Eventually.TrueAsync(async () => (await Metrics(http)).Contains("o2x_dead_letters{queue=\"FLAKY\"} 0\n"), Deadline,
            "no dead letter is waiting any more");
    }

    private static Task<string> Metrics(HttpClient http) => http.GetStringAsync("/metrics");

    private static double Handled(string metrics, string outcome) => Gauge(metrics, "o2x_messages_handled_total", $",outcome=\"{outcome}\"");

    private static double Gauge(string metrics, string name, string extraLabels = "")
    {
        var match = Regex.Match(metrics, "^" + Regex.Escape($"{name}{{queue=\"FLAKY\"{extraLabels}}}") + " (\\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    public void Dispose() => _data.Dispose();
}
