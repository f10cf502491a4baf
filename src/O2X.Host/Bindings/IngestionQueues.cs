using System.Collections.Concurrent;
using O2X.Actors.Messaging.Bindings;

namespace O2X.Host.Bindings;

/// <summary>
/// The HTTP-ingestion queues of this node by O2X queue name (case-sensitive, as in seed §3: <c>OMS</c>,
/// <c>price-sync</c>). Queues appear once the actor system has started their pipelines.
/// </summary>
internal sealed class IngestionQueues
{
    private readonly ConcurrentDictionary<string, IngestionQueue> _queues = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => _queues.Keys.Order(StringComparer.Ordinal);

    public void Add(IngestionQueue queue)
    {
        if (!_queues.TryAdd(queue.Queue, queue)) throw new InvalidOperationException($"Queue {queue.Queue} is already bound.");
    }

    public bool TryGet(string name, out IngestionQueue queue) => _queues.TryGetValue(name, out queue!);

    /// <summary>Stops accepting on every queue and waits for queued messages to finish.</summary>
    public Task DrainAsync() => Task.WhenAll(_queues.Values.Select(q => q.DisposeAsync().AsTask()));
}
