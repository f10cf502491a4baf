using System.Text;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

/// <summary>A handler driven by the test: each message's body says what to do.</summary>
internal sealed class ScriptedHandler : IMessageHandler
{
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        var body = Encoding.UTF8.GetString(envelope.Body.Span);
        return body switch
        {
            "reject-at-plan" => throw new NonRetryableException("MISSING_FIELD", "no account_id"),
            "bug-at-plan" => throw new InvalidOperationException("the handler has a bug"),
            "reject" => new HandlingPlan(envelope.MessageId, _ => throw new NonRetryableException("ACCOUNT_NOT_FOUND", "unknown account")),
            "crash" => new HandlingPlan(envelope.MessageId, _ => throw new TimeoutException("db timeout")),
            "wait" => new HandlingPlan(envelope.MessageId, async _ =>
            {
                await Gate.Task;
                return HandlingOutcome.ProcessedWith(("waited", "yes"));
            }),
            _ => new HandlingPlan(envelope.MessageId, _ => Task.FromResult<HandlingOutcome>(HandlingOutcome.ProcessedWith(("body", body)))),
        };
    }

    public static MessageEnvelope Envelope(string body, string? id = null) =>
        new(id ?? Guid.NewGuid().ToString("N"), "TEST", null, MessageEnvelope.NoHeaders, Encoding.UTF8.GetBytes(body), 1, DateTimeOffset.UtcNow);
}
