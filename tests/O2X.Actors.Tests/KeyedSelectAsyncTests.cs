using System.Collections.Concurrent;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Actors.Messaging.Bindings;

namespace O2X.Actors.Tests;

public sealed class KeyedSelectAsyncTests : TestKit
{
    private readonly IMaterializer _materializer;

    public KeyedSelectAsyncTests() => _materializer = Sys.Materializer();

    [Fact]
    public async Task Elements_of_one_key_run_one_at_a_time_in_arrival_order()
    {
        var running = new ConcurrentDictionary<string, int>();
        var overlaps = 0;
        var seen = new ConcurrentQueue<(string Key, int N)>();

        var results = await Source.From(Enumerable.Range(0, 300).Select(n => (Key: "k" + (n % 3), N: n)))
            .Via(new KeyedSelectAsync<(string Key, int N), (string Key, int N)>(8, 32, e => e.Key, async e =>
            {
                if (running.AddOrUpdate(e.Key, 1, (_, c) => c + 1) > 1) Interlocked.Increment(ref overlaps);
                await Task.Delay(1);
                seen.Enqueue(e);
                running.AddOrUpdate(e.Key, 0, (_, c) => c - 1);
                return e;
            }))
            .RunWith(Sink.Seq<(string Key, int N)>(), _materializer);

        results.Should().HaveCount(300);
        overlaps.Should().Be(0);
        foreach (var key in new[] { "k0", "k1", "k2" })
            seen.Where(e => e.Key == key).Select(e => e.N).Should().BeInAscendingOrder();
    }

    [Fact]
    public async Task Different_keys_run_concurrently_up_to_the_parallelism()
    {
        var current = 0;
        var peak = 0;
        var gate = new TaskCompletionSource();

        var run = Source.From(Enumerable.Range(0, 20))
            .Via(new KeyedSelectAsync<int, int>(4, 16, n => "k" + n, async n =>
            {
                var now = Interlocked.Increment(ref current);
                InterlockedMax(ref peak, now);
                await gate.Task;
                Interlocked.Decrement(ref current);
                return n;
            }))
            .RunWith(Sink.Seq<int>(), _materializer);

        await O2X.Testing.Eventually.TrueAsync(() => Volatile.Read(ref current) == 4, TimeSpan.FromSeconds(5), "four elements start");
        gate.SetResult();
        (await run).Should().HaveCount(20);
        peak.Should().Be(4);
    }

    [Fact]
    public async Task A_stalled_key_does_not_block_other_keys()
    {
        var stalled = new TaskCompletionSource<int>();
        var done = new ConcurrentQueue<int>();

        var run = Source.From(Enumerable.Range(0, 50))
            .Via(new KeyedSelectAsync<int, int>(4, 64, n => n % 10 == 0 ? "slow" : "k" + n, n =>
            {
                if (n == 0) return stalled.Task;
                done.Enqueue(n);
                return Task.FromResult(n);
            }))
            .RunWith(Sink.Seq<int>(), _materializer);

        await O2X.Testing.Eventually.TrueAsync(() => done.Count == 45, TimeSpan.FromSeconds(5),
            "every element of other keys completes while key 'slow' waits");
        done.Should().NotContain(new[] { 10, 20, 30, 40 }, "they wait behind element 0 of the same key");
        stalled.SetResult(0);
        (await run).Should().HaveCount(50);
    }

    [Fact]
    public async Task It_stops_pulling_once_max_held_elements_are_inside()
    {
        var pulled = 0;
        var gate = new TaskCompletionSource<int>();

        var run = Source.From(Enumerable.Range(0, 1000))
            .Select(n => { Interlocked.Increment(ref pulled); return n; })
            .Via(new KeyedSelectAsync<int, int>(2, 10, _ => "same-key", _ => gate.Task))
            .RunWith(Sink.Ignore<int>(), _materializer);

        await O2X.Testing.Eventually.TrueAsync(() => Volatile.Read(ref pulled) >= 10, TimeSpan.FromSeconds(5), "the stage fills up");
        await Task.Delay(200); // give an unbounded stage the chance to over-pull (a bound, not a wait for a condition)
        Volatile.Read(ref pulled).Should().BeLessThanOrEqualTo(10 + 1, "at most maxHeld elements inside plus one in the Select");
        gate.SetResult(1);
        await run;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
