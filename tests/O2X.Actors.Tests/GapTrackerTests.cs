using O2X.Actors.Persistence.Query;

namespace O2X.Actors.Tests;

/// <summary>Pure logic of how far the outbox projection may read past missing journal orderings (<see cref="GapTracker"/>).</summary>
public sealed class GapTrackerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    [Fact]
    public void A_gap_is_waited_for_until_the_timeout_and_then_passed()
    {
        var gaps = new GapTracker(Timeout);
        gaps.SafeUpTo(0, [1, 2, 4, 5], At(0)).Should().Be(2);
        gaps.SafeUpTo(2, [4, 5], At(9.9)).Should().Be(2, "ordering 3 may still be a transaction in flight");
        gaps.SafeUpTo(2, [4, 5], At(10)).Should().Be(5, "missing for the timeout: rolled back for good");
    }

    [Fact]
    public void A_gap_that_fills_is_read_through_at_once()
    {
        var gaps = new GapTracker(Timeout);
        gaps.SafeUpTo(0, [1, 3], At(0)).Should().Be(1);
        gaps.SafeUpTo(1, [2, 3], At(1)).Should().Be(3);
        gaps.SafeUpTo(3, [5], At(2)).Should().Be(3, "a new gap (4) waits from when it was first seen, not from ordering 2's");
    }

    [Fact]
    public void Gaps_seen_in_one_scan_expire_together_after_one_timeout()
    {
        // A node killed with four transactions in flight: four gaps at once. Aged from when the reader reached each of them,
        // they cost 10 s each in turn.
        var gaps = new GapTracker(Timeout);
        gaps.SafeUpTo(0, [1, 3, 5, 7, 9], At(0)).Should().Be(1);
        gaps.SafeUpTo(1, [3, 5, 7, 9], At(5)).Should().Be(1);
        gaps.SafeUpTo(1, [3, 5, 7, 9], At(10)).Should().Be(9);
    }

    [Fact]
    public void A_gap_first_seen_later_waits_its_own_timeout()
    {
        var gaps = new GapTracker(Timeout);
        gaps.SafeUpTo(0, [1, 3], At(0)).Should().Be(1);
        gaps.SafeUpTo(1, [3, 5], At(6)).Should().Be(1, "gap 2 is 6 s old");
        gaps.SafeUpTo(1, [3, 5], At(10)).Should().Be(3, "gap 2 has expired; gap 4 was first seen at 6 s");
        gaps.SafeUpTo(3, [5], At(15.9)).Should().Be(3);
        gaps.SafeUpTo(3, [5], At(16)).Should().Be(5);
    }

    [Fact]
    public void Where_part_of_a_missing_range_fills_the_rest_keeps_its_age()
    {
        var gaps = new GapTracker(Timeout);
        gaps.SafeUpTo(0, [1, 6], At(0)).Should().Be(1, "2 to 5 missing");
        gaps.SafeUpTo(1, [3, 6], At(5)).Should().Be(1, "2, 4 and 5 still missing since 0 s");
        gaps.SafeUpTo(1, [3, 6, 8], At(10)).Should().Be(6, "2, 4 and 5 expire at 10 s; 7, first seen now, does not");
        gaps.Known.Should().Equal([(7L, 7L, At(10))], "passed gaps are forgotten");
    }

    [Fact]
    public void Gaps_beyond_what_a_scan_reached_keep_their_age()
    {
        // A scan returns at most so many orderings: one that stops short of a known gap must not reset its age.
        var gaps = new GapTracker(Timeout);
        gaps.SafeUpTo(0, [1, 2, 4], At(0)).Should().Be(2);
        gaps.SafeUpTo(2, [], At(5)).Should().Be(2, "nothing read this time");
        gaps.Known.Should().Equal([(3L, 3L, At(0))]);
        gaps.SafeUpTo(2, [4], At(10)).Should().Be(4);
    }

    [Fact]
    public void What_is_remembered_stays_bounded_by_the_gaps_above_the_offset()
    {
        var gaps = new GapTracker(Timeout);
        long offset = 0;
        for (var round = 0; round < 1_000; round++)
        {
            // Every round: 10 orderings, one of them missing for good.
            var orderings = Enumerable.Range(1, 10).Select(i => offset + i).Where(o => o % 10 != 5).ToArray();
            offset = gaps.SafeUpTo(offset, orderings, At(round * 20));
            offset = gaps.SafeUpTo(offset, orderings.Where(o => o > offset).ToArray(), At(round * 20 + 10));
        }

        offset.Should().Be(10_000);
        gaps.Known.Should().BeEmpty();
    }
}
