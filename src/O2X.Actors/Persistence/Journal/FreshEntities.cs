using System.Collections.Concurrent;
using Akka.Actor;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// Persistence ids known, in this actor system, to have nothing in the journal or the snapshot store yet — an order whose
/// number was given out a moment ago — so that the entity's first start needs no recovery queries (snapshot, highest
/// sequence number). The caller that knows marks the id before its first command and unmarks it when that command is
/// answered; the entity claims the mark when it starts (and recovers from nothing), and the journal answers the claimed
/// id's highest sequence number (0) without a query and drops the mark.
/// </summary>
/// <remarks>
/// A mark is only a hint: the journal's unique (persistence id, sequence number) refuses the first write of an entity that
/// was wrongly taken for new, and the entity then stops and recovers in full when it starts again. Marks live only while
/// their command is in flight, and at most <see cref="Capacity"/> at once (beyond that, entities recover as usual). One
/// registry per actor system: nodes that share a process (tests) never see each other's marks.
/// </remarks>
internal sealed class FreshEntities : IExtension
{
    public const int Capacity = 10_000;

    // false: marked; true: claimed by a starting entity, its journal read still to come.
    private readonly ConcurrentDictionary<string, bool> _marks = new(StringComparer.Ordinal);

    public static FreshEntities For(ActorSystem system) => system.WithExtension<FreshEntities, FreshEntitiesProvider>();

    public void Mark(string persistenceId)
    {
        if (_marks.Count < Capacity) _marks.TryAdd(persistenceId, false);
    }

    public void Unmark(string persistenceId) => _marks.TryRemove(persistenceId, out _);

    public bool IsMarked(string persistenceId) => _marks.ContainsKey(persistenceId);

    /// <summary>For the entity, as it starts: true if it may start from nothing.</summary>
    public bool TryClaim(string persistenceId) => _marks.TryUpdate(persistenceId, true, false);

    /// <summary>For the journal: true if a starting entity claimed this id (its highest sequence number is 0); drops the mark.</summary>
    public bool TryTakeClaimed(string persistenceId) =>
        ((ICollection<KeyValuePair<string, bool>>)_marks).Remove(new KeyValuePair<string, bool>(persistenceId, true));
}

internal sealed class FreshEntitiesProvider : ExtensionIdProvider<FreshEntities>
{
    public override FreshEntities CreateExtension(ExtendedActorSystem system) => new();
}
