namespace O2X.Actors.Messaging;

/// <summary>
/// A queue a message can be put back on (an operator's requeue of a dead letter). Completes true once the
/// queue has accepted the message — not once it is handled.
/// </summary>
internal interface IRequeueTarget
{
    string Queue { get; }

    Task<bool> RequeueAsync(MessageEnvelope envelope, CancellationToken cancellation);
}
