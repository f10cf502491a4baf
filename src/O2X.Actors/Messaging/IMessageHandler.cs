namespace O2X.Actors.Messaging;

/// <summary>
/// Handles the messages of one queue. Handlers are transport-neutral: the binding pipeline gives them a
/// <see cref="MessageEnvelope"/> and acknowledges the transport according to the outcome.
/// </summary>
public interface IMessageHandler
{
    /// <summary>
    /// Parses and validates the message without side effects and says how to handle it. Throws
    /// <see cref="NonRetryableException"/> for input that can never succeed (the message is rejected
    /// without running anything).
    /// </summary>
    HandlingPlan Plan(MessageEnvelope envelope);
}

/// <summary>
/// How to handle one parsed message.
/// </summary>
/// <param name="OrderingKey">Messages with the same key are handled one at a time, in arrival order
/// (e.g. the account id); messages with different keys run concurrently.</param>
/// <param name="Execute">Performs the effect; the returned task completes once the effect is durable.</param>
public sealed record HandlingPlan(string OrderingKey, Func<CancellationToken, Task<HandlingOutcome>> Execute);
