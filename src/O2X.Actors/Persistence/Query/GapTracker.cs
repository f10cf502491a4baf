namespace O2X.Actors.Persistence.Query;

/// <summary>
/// How far a reader of the journal's orderings may advance past missing orderings ("gaps"). On PostgreSQL an ordering is
/// taken when a transaction inserts and becomes visible when it commits, so a gap is either a transaction still in flight
/// or one rolled back for good (a failed batch, a process killed mid-commit). A gap is passed once it has been missing for
/// the timeout — each missing ordering aged from the first scan that saw it missing. So gaps left at once (a node killed
/// with several transactions in flight) expire together, after one timeout: aged from when the reader reached each of them,
/// as before, they cost one timeout each in turn (five gaps held the outbox back 50 s after a node was killed).
/// </summary>
internal sealed class GapTracker(TimeSpan timeout)
{
    /// <summary>The missing ranges (inclusive) seen so far above the reader's offset: ascending, disjoint, each with when it was first seen missing.</summary>
    private List<(long From, long To, DateTimeOffset Since)> _known = [];

    /// <summary>The missing ranges the tracker remembers, for tests.</summary>
    internal IReadOnlyList<(long From, long To, DateTimeOffset Since)> Known => _known;

    /// <summary>
    /// The highest ordering up to which every ordering after <paramref name="after"/> is in <paramref name="orderings"/>
    /// (ascending, all above <paramref name="after"/>) or has been missing for at least the timeout at <paramref name="now"/>.
    /// </summary>
    public long SafeUpTo(long after, IReadOnlyList<long> orderings, DateTimeOffset now)
    {
        var current = new List<(long From, long To, DateTimeOffset Since)>();
        var expected = after + 1;
        foreach (var ordering in orderings)
        {
            if (ordering > expected) AddMissing(current, expected, ordering - 1, now);
            expected = Math.Max(expected, ordering + 1);
        }

        var scanned = expected - 1;
        var safe = scanned;
        foreach (var gap in current)
        {
            if (now - gap.Since < timeout)
            {
                safe = gap.From - 1;
                break;
            }
        }

        // Remembered: what this scan found missing and does not pass (filled gaps are gone), and the gaps above what it reached.
        _known = [.. current.Where(g => g.From > safe), .. _known.Where(k => k.From > scanned)];
        return safe;
    }

    /// <summary>Adds [from, to] to <paramref name="current"/>, each part aged from when a known range saw it missing, or from now.</summary>
    private void AddMissing(List<(long From, long To, DateTimeOffset Since)> current, long from, long to, DateTimeOffset now)
    {
        var at = from;
        foreach (var known in _known)
        {
            if (known.To < at) continue;
            if (known.From > to) break;
            if (known.From > at)
            {
                current.Add((at, known.From - 1, now));
                at = known.From;
            }

            var end = Math.Min(known.To, to);
            current.Add((at, end, known.Since));
            at = end + 1;
            if (at > to) return;
        }

        current.Add((at, to, now));
    }
}
