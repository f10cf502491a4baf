namespace O2X.Streams.Kafka;

/// <summary>
/// The offset bookkeeping of one assigned partition (pure; used from the consumer's poll thread only).
/// Records are settled in any order; the committable position is the lowest offset not yet done (or one past
/// the highest delivered when all are done), so a commit never skips a record whose effect is not durable.
/// A released record makes the partition seek back to it; the records after it are delivered again.
/// </summary>
internal sealed class PartitionOffsets
{
    private readonly SortedSet<long> _pending = new();
    private long _highest = -1;
    private long _committed = -1;
    private long? _seekTarget;

    /// <summary>Delivered and not settled yet.</summary>
    public int InFlight { get; private set; }

    /// <summary>Settled since the last commit.</summary>
    public int SettledSinceCommit { get; private set; }

    public void Delivered(long offset)
    {
        _pending.Add(offset);
        if (offset > _highest) _highest = offset;
        if (_seekTarget is { } target && offset <= target) _seekTarget = null;
        InFlight++;
    }

    /// <summary>Done with (committed or rejected): may advance the committable position.</summary>
    public void Completed(long offset)
    {
        InFlight--;
        SettledSinceCommit++;
        _pending.Remove(offset);
    }

    /// <summary>Given back: returns the offset to seek to, or null when a seek at or before it is already under way.</summary>
    public long? Released(long offset)
    {
        InFlight--;
        if (_seekTarget is { } target && target <= offset) return null;
        _seekTarget = offset;
        return offset;
    }

    /// <summary>The offset to commit (the next one to consume), or null when nothing was delivered.</summary>
    public long? Position => _highest < 0 ? null : _pending.Count > 0 ? _pending.Min : _highest + 1;

    /// <summary>The position if it moved since the last commit.</summary>
    public long? Uncommitted => Position is { } position && position > _committed ? position : null;

    public void MarkCommitted(long position)
    {
        _committed = Math.Max(_committed, position);
        SettledSinceCommit = 0;
    }
}
