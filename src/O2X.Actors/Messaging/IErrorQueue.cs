namespace O2X.Actors.Messaging;

/// <summary>
/// Where a binding sends messages that can never succeed (seed §5.3: OMS → OMS_ERROR). The binding
/// acknowledges a rejected message only after <see cref="RecordAsync"/> has completed, so a rejection is
/// never lost; implementations must be idempotent per message id (a redelivered rejection is recorded once).
/// </summary>
internal interface IErrorQueue
{
    Task RecordAsync(MessageEnvelope envelope, HandlingOutcome.Rejected rejection, CancellationToken cancellation);
}
