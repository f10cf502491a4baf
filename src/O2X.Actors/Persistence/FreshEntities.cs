using System.Collections.Concurrent;
using Akka.Actor;

namespace O2X.Actors.Persistence;

/// <summary>
/// Persistence ids known, in this actor system, to have nothing stored yet — an order whose number was given out a moment
/// ago — so that the entity's first start does not look for a snapshot (one query fewer per new order; on PostgreSQL a
/// round trip). The caller that knows marks the id before its first command and unmarks it when that command is answered;
/// the entity takes the mark when it starts.
/// </summary>
/// <remarks>
/// A mark is only a hint, and a wrong one costs time, never state: the entity still reads its highest sequence number
/// and replays every event it has (no entity deletes events), so an entity wrongly taken for new recovers the same state
/// from its events alone. Marks live only while their command is in flight, and at most <see cref="Capacity"/> at once.
/// One registry per actor system: nodes that share a process (tests) never see each other's marks.
/// </remarks>
internal sealed class FreshEntities : IExtension
{
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, byte> _marks = new(StringComparer.Ordinal);
    private int _count;

    public static FreshEntities For(ActorSystem system) => system.WithExtension<FreshEntities, FreshEntitiesProvider>();

    public void Mark(string persistenceId)
    {
        if (Volatile.Read(ref _count) >= Capacity) return;
        if (_marks.TryAdd(persistenceId, 0)) Interlocked.Increment(ref _count);
    }

    public void Unmark(string persistenceId)
    {
        if (_marks.TryRemove(persistenceId, out _)) Interlocked.Decrement(ref _count);
    }

    public bool IsMarked(string persistenceId) => _marks.ContainsKey(persistenceId);

    /// <summary>For the entity, as it starts: true if it need not look for a snapshot. Takes the mark.</summary>
    public bool TryTake(string persistenceId)
    {
        if (!_marks.TryRemove(persistenceId, out _)) return false;
        Interlocked.Decrement(ref _count);
        return true;
    }
}

internal sealed class FreshEntitiesProvider : ExtensionIdProvider<FreshEntities>
{
    public override FreshEntities CreateExtension(ExtendedActorSystem system) => new();
}
