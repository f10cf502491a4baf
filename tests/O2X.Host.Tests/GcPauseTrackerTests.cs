using FluentAssertions;
using O2X.Host.Observability;
using Xunit;

namespace O2X.Host.Tests;

/// <summary>
/// The pairing of the runtime's GC events into pauses, fed the sequences the runtime raises (dotnet/runtime's GC: a
/// background collection's first pause starts it and, in the same pause, an ephemeral collection; its final mark is a
/// suspension for GC preparation that starts none; other suspensions are not collections).
/// </summary>
public sealed class GcPauseTrackerTests
{
    private static readonly DateTime T0 = new(2026, 12, 5, 10, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void A_background_collection_is_two_generation_2_pauses_and_a_foreground_collection_meanwhile_keeps_its_own_generation()
    {
        var tracker = new GcPauseTracker();

        tracker.Suspending(T0, GcPauseTracker.SuspendForGc);
        tracker.Started(count: 10, depth: 2, type: GcPauseTracker.BackgroundGc);
        tracker.Started(count: 11, depth: 1, type: 0); // the ephemeral collection the runtime runs before a background one
        tracker.Ended(11);
        tracker.Restarted(T0.AddMilliseconds(7)).Should().Be((2, TimeSpan.FromMilliseconds(7)));

        tracker.Suspending(T0.AddMilliseconds(50), GcPauseTracker.SuspendForGc);
        tracker.Started(count: 12, depth: 0, type: 2); // foreground, while the background collection marks
        tracker.Ended(12);
        tracker.Restarted(T0.AddMilliseconds(53)).Should().Be((0, TimeSpan.FromMilliseconds(3)));

        tracker.Suspending(T0.AddMilliseconds(100), GcPauseTracker.SuspendForGcPrep); // its final mark: no collection starts
        tracker.Restarted(T0.AddMilliseconds(104)).Should().Be((2, TimeSpan.FromMilliseconds(4)));
        tracker.Ended(10);

        // The same reason once the background collection has ended is not a collection's (a write-barrier change).
        tracker.Suspending(T0.AddMilliseconds(200), GcPauseTracker.SuspendForGcPrep);
        tracker.Restarted(T0.AddMilliseconds(201)).Should().BeNull();
    }

    [Fact]
    public void A_suspension_for_other_work_is_not_a_pause_of_the_collector_and_does_not_inherit_the_last_generation()
    {
        var tracker = new GcPauseTracker();
        tracker.Suspending(T0, GcPauseTracker.SuspendForGc);
        tracker.Started(count: 1, depth: 1, type: 0);
        tracker.Ended(1);
        tracker.Restarted(T0.AddMilliseconds(12)).Should().Be((1, TimeSpan.FromMilliseconds(12)));

        tracker.Suspending(T0.AddSeconds(1), 0); // e.g. tiered compilation's call-counting cleanup
        tracker.Restarted(T0.AddSeconds(1).AddMilliseconds(2)).Should().BeNull();

        tracker.Suspending(T0.AddSeconds(2), GcPauseTracker.SuspendForGc); // a suspension for GC in which none started
        tracker.Restarted(T0.AddSeconds(2).AddMilliseconds(1)).Should().BeNull();
        tracker.Restarted(T0.AddSeconds(3)).Should().BeNull("a restart without a suspension pairs with nothing");
    }
}
