using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace O2X.Actors.Messaging;

/// <summary>
/// The ids of the last <see cref="Capacity"/> messages an entity applied (seed §9.1 issue 3: idempotent
/// consumers). Part of the entity's persisted state, rebuilt from events on recovery and kept in
/// snapshots, so a redelivery after a restart is still recognised.
/// </summary>
internal sealed class MessageIdWindow
{
    public const int DefaultCapacity = 1000;

    public static readonly MessageIdWindow Empty = new([], DefaultCapacity);

    private readonly ImmutableQueue<string> _order;
    private readonly ImmutableHashSet<string> _set;

    [JsonConstructor]
    public MessageIdWindow(IReadOnlyList<string> ids, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        var kept = ids.Skip(Math.Max(0, ids.Count - capacity)).ToArray();
        _order = ImmutableQueue.CreateRange(kept);
        _set = kept.ToImmutableHashSet(StringComparer.Ordinal);
    }

    private MessageIdWindow(ImmutableQueue<string> order, ImmutableHashSet<string> set, int capacity)
    {
        _order = order;
        _set = set;
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Oldest first.</summary>
    public IReadOnlyList<string> Ids => _order.ToArray();

    public bool Contains(string messageId) => _set.Contains(messageId);

    public MessageIdWindow Add(string messageId)
    {
        if (_set.Contains(messageId)) return this;
        var order = _order.Enqueue(messageId);
        var set = _set.Add(messageId);
        if (set.Count > Capacity)
        {
            order = order.Dequeue(out var oldest);
            set = set.Remove(oldest);
        }

        return new MessageIdWindow(order, set, Capacity);
    }
}
