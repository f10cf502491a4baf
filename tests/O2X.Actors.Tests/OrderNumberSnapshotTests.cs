using O2X.Actors.Orders;

namespace O2X.Actors.Tests;

public class OrderNumberSnapshotTests
{
    [Theory]
    [InlineData(1000, 0, 1000)]            // a young day: the configured interval
    [InlineData(1000, 3_999, 1000)]
    [InlineData(1000, 40_000, 10_000)]     // a quarter of the ids: the snapshot's cost per event stays constant
    [InlineData(1000, 400_000, 50_000)]    // capped, so recovery replays at most 50,000 events
    [InlineData(80_000, 400_000, 80_000)]  // never below what is configured
    public void The_allocator_snapshots_less_often_as_the_day_fills(int snapshotEvery, int ids, int expected) =>
        OrderNumberAllocator.SnapshotInterval(snapshotEvery, ids).Should().Be(expected);
}
