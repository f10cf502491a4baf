using O2X.Streams.Kafka;

namespace O2X.Streams.Tests;

public class PartitionOffsetsTests
{
    [Fact]
    public void Nothing_delivered_means_nothing_to_commit()
    {
        var offsets = new PartitionOffsets();
        offsets.Position.Should().BeNull();
        offsets.Uncommitted.Should().BeNull();
    }

    [Fact]
    public void The_position_stops_at_the_lowest_record_not_done_whatever_the_order_of_completion()
    {
        var offsets = new PartitionOffsets();
        foreach (var o in new long[] { 10, 11, 12, 13 }) offsets.Delivered(o);

        offsets.Completed(12);
        offsets.Completed(13);
        offsets.Position.Should().Be(10, "10 and 11 are not done: committing past them could lose them");
        offsets.Completed(10);
        offsets.Position.Should().Be(11);
        offsets.Completed(11);
        offsets.Position.Should().Be(14, "all done: the next offset to consume");
        offsets.InFlight.Should().Be(0);
        offsets.SettledSinceCommit.Should().Be(4);
    }

    [Fact]
    public void Gaps_in_offsets_from_compaction_or_transactions_do_not_hold_the_position_back()
    {
        var offsets = new PartitionOffsets();
        offsets.Delivered(3);
        offsets.Delivered(7);
        offsets.Completed(3);
        offsets.Position.Should().Be(7);
        offsets.Completed(7);
        offsets.Position.Should().Be(8);
    }

    [Fact]
    public void A_committed_position_is_not_committed_again()
    {
        var offsets = new PartitionOffsets();
        offsets.Delivered(0);
        offsets.Completed(0);
        offsets.Uncommitted.Should().Be(1);
        offsets.MarkCommitted(1);
        offsets.Uncommitted.Should().BeNull();
        offsets.SettledSinceCommit.Should().Be(0);
        offsets.Delivered(1);
        offsets.Uncommitted.Should().BeNull("record 1 is not done yet");
    }

    [Fact]
    public void A_release_seeks_back_once_to_the_earliest_released_record_and_holds_the_position()
    {
        var offsets = new PartitionOffsets();
        for (var o = 0; o < 6; o++) offsets.Delivered(o);

        offsets.Released(4).Should().Be(4);
        offsets.Released(5).Should().BeNull("a seek to 4 brings 5 again");
        offsets.Released(2).Should().Be(2, "an earlier record needs an earlier seek");
        offsets.Completed(0);
        offsets.Completed(1);
        offsets.Completed(3);
        offsets.Position.Should().Be(2);

        offsets.Delivered(2); // consumed again after the seek
        offsets.Released(5).Should().Be(5, "the earlier seek has been served");
    }
}
