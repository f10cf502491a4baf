using Akka.Actor;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Retries;

/// <summary>
/// Handle this message to a final outcome; its first attempt (run inline) failed with <paramref name="FirstFailure"/>
/// (local only: it carries the handler's plan).
/// </summary>
internal sealed record ExecuteMessage(MessageEnvelope Envelope, HandlingPlan Plan, CancellationToken Cancellation, Exception FirstFailure)
    : INoSerializationVerificationNeeded;

/// <summary>An attempt ended with an outcome (processed, duplicate, or refused): no retry needed.</summary>
internal sealed record AttemptSucceeded(HandlingOutcome Outcome) : INoSerializationVerificationNeeded;

/// <summary>The exception an attempt worker died of, for its supervisor.</summary>
internal sealed class AttemptFailedException(Exception cause) : Exception(cause.Message, cause);
