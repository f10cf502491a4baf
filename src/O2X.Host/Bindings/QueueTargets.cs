using O2X.Actors.Messaging;

namespace O2X.Host.Bindings;

/// <summary>
/// Where this node puts a message on a queue (a dead letter's requeue, a triggered USAGE batch, a split bulk job): the
/// queue's broker when it is bound to one, else HTTP ingestion's in-process queue; null when this node has neither.
/// </summary>
internal sealed class QueueTargets(Func<string, IRequeueTarget?> lookup)
{
    public IRequeueTarget? For(string queue) => lookup(queue);
}
