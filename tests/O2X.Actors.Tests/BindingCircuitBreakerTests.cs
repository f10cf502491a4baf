using Akka.TestKit.Xunit2;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;
using O2X.Testing;

namespace O2X.Actors.Tests;

public sealed class BindingCircuitBreakerTests : TestKit
{
    [Fact]
    public async Task It_opens_after_consecutive_failures_holds_calls_then_probes_and_closes()
    {
        var breaker = new BindingCircuitBreaker(Sys.Scheduler, 3, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5));
        var states = new List<BreakerState>();
        breaker.StateChanged += s => { lock (states) states.Add(s); };
        var calls = 0;

        for (var i = 0; i < 3; i++)
        {
            var failing = () => breaker.ExecuteAsync<int>(_ => { Interlocked.Increment(ref calls); throw new TimeoutException("db down"); }, default);
            await failing.Should().ThrowAsync<TimeoutException>();
        }

        breaker.State.Should().Be(BreakerState.Open);
        var held = breaker.ExecuteAsync(_ => { Interlocked.Increment(ref calls); return Task.FromResult(42); }, default);
        held.IsCompleted.Should().BeFalse("an open breaker holds calls instead of making them");
        Volatile.Read(ref calls).Should().Be(3);

        (await held.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be(42, "the probe after the reset timeout went through");
        await Eventually.TrueAsync(() => breaker.State == BreakerState.Closed, TimeSpan.FromSeconds(5), "the successful probe closes the breaker");
        await Eventually.TrueAsync(() => { lock (states) return states.Count >= 3; }, TimeSpan.FromSeconds(5), "every transition is reported");
        lock (states) states.Should().BeEquivalentTo([BreakerState.Open, BreakerState.HalfOpen, BreakerState.Closed], "listeners may be told out of order");
    }

    [Fact]
    public async Task Failures_of_the_message_itself_pass_through_without_opening_it()
    {
        var breaker = new BindingCircuitBreaker(Sys.Scheduler, 2, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

        for (var i = 0; i < 10; i++)
        {
            var bug = () => breaker.ExecuteAsync<int>(_ => throw new InvalidOperationException("a handler bug"), default);
            await bug.Should().ThrowAsync<InvalidOperationException>("the caller still learns what happened");
            var waiting = () => breaker.ExecuteAsync<int>(_ => throw new RetryableException("file not there yet", dependencyFailure: false), default);
            await waiting.Should().ThrowAsync<RetryableException>();
        }

        breaker.State.Should().Be(BreakerState.Closed, "twenty failures of messages say nothing about the dependencies");
    }

    [Fact]
    public async Task A_failed_probe_opens_it_again()
    {
        var breaker = new BindingCircuitBreaker(Sys.Scheduler, 1, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        var fail = () => breaker.ExecuteAsync<int>(_ => throw new TimeoutException(), default);
        await fail.Should().ThrowAsync<TimeoutException>();

        await fail.Should().ThrowAsync<TimeoutException>("the probe itself fails");

        breaker.State.Should().Be(BreakerState.Open);
    }
}
