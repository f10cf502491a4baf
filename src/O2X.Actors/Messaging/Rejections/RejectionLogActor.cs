using O2X.Actors.Sharding;

namespace O2X.Actors.Messaging.Rejections;

/// <summary>
/// A sharded, persistent log of refused messages (<c>rejections-{queue}-{bucket}</c>). Messages are spread
/// over buckets by a stable hash of their id, so a redelivered message meets its own earlier record and is
/// not recorded twice.
/// </summary>
internal sealed class RejectionLogActor : EventSourcedEntity<RejectionLogState, RecordRejection, MessageRejected>
{
    public RejectionLogActor(string logId, int snapshotEvery)
        : base("rejections-" + logId, RejectionLogState.Empty(logId), snapshotEvery)
    {
    }

    protected override Decision<MessageRejected> Decide(RejectionLogState state, RecordRejection command) => RejectionLogState.Decide(state, command);

    protected override RejectionLogState Apply(RejectionLogState state, MessageRejected @event) => state.Apply(@event);
}
