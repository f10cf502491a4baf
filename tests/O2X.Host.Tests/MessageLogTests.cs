using Microsoft.Extensions.Logging;
using O2X.Host.Observability;
using O2X.Actors.Messaging;

namespace O2X.Host.Tests;

public sealed class MessageLogTests
{
    private sealed class Capture : ILogger<MessageLog>
    {
        public List<(LogLevel Level, IReadOnlyDictionary<string, object?> Properties, string Text)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, ((IEnumerable<KeyValuePair<string, object?>>)state!).ToDictionary(p => p.Key, p => p.Value), formatter(state, exception)));
    }

    private static readonly MessageEnvelope Envelope = new("m-42", "OMS", "corr-7", MessageEnvelope.NoHeaders, "{\"secret\":\"4111\"}"u8.ToArray(), 1,
        DateTimeOffset.UtcNow);

    [Fact]
    public void Every_line_about_a_message_carries_its_ids_as_properties_and_never_its_body()
    {
        var capture = new Capture();
        var log = new MessageLog(capture);

        log.Completed(Envelope, new HandlingOutcome.Rejected("INVALID_FIELD", "quantity must be positive"), TimeSpan.FromMilliseconds(3));
        log.Completed(Envelope, new HandlingOutcome.DeadLettered(9, 8, "System.TimeoutException", "timed out"), TimeSpan.FromSeconds(90));
        log.Completed(Envelope, HandlingOutcome.ProcessedWith(), TimeSpan.FromMilliseconds(5));

        capture.Lines.Select(l => l.Level).Should().Equal(LogLevel.Warning, LogLevel.Warning, LogLevel.Debug);
        capture.Lines.Should().OnlyContain(l => (string)l.Properties["MessageId"]! == "m-42" && (string)l.Properties["CorrelationId"]! == "corr-7"
                                                && (string)l.Properties["Queue"]! == "OMS");
        capture.Lines.Select(l => (string)l.Properties["Outcome"]!).Should().Equal("rejected", "dead_lettered", "processed");
        capture.Lines[0].Properties["ErrorCode"].Should().Be("INVALID_FIELD");
        capture.Lines.Should().OnlyContain(l => !l.Text.Contains("4111"));
    }
}
