using O2X.Streams.Connectors;

namespace O2X.Streams.Tests;

/// <summary>
/// The resource under every publisher: callers waiting for a (re)connection resume in the order they called (a stream's
/// publishes reach the broker in order), and a caller arriving while the waiters are being resumed is never stranded.
/// </summary>
public sealed class ReconnectingResourceTests
{
    private sealed class Connection
    {
        public bool Open { get; set; } = true;
    }

    private static readonly ReconnectBackoff NoWait = new(TimeSpan.Zero, TimeSpan.Zero);

    [Fact]
    public async Task Callers_waiting_for_the_connection_resume_in_the_order_they_called()
    {
        var gate = new TaskCompletionSource();
        await using var resource = new ReconnectingResource<Connection>("test", async _ =>
        {
            await gate.Task;
            return new Connection();
        }, c => c.Open, _ => Task.CompletedTask, NoWait);
        var order = new List<int>();
        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            // As the publishers do: without the test framework's synchronization context, which would queue the resumptions.
            await resource.GetAsync(default).ConfigureAwait(false);
            lock (order) order.Add(i); // what a publisher does right after: put its message on the wire
        }).ToList();

        gate.SetResult();
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));

        order.Should().Equal(Enumerable.Range(0, 200));
    }

    [Fact]
    public async Task A_caller_arriving_while_waiters_resume_after_a_failed_open_is_not_stranded()
    {
        var attempts = 0;
        await using var resource = new ReconnectingResource<Connection>("test", _ =>
        {
            // The first attempt fails; the second succeeds.
            return Interlocked.Increment(ref attempts) == 1 ? Task.FromException<Connection>(new IOException("refused")) : Task.FromResult(new Connection());
        }, c => c.Open, _ => Task.CompletedTask, NoWait);

        Task<Connection>? late = null;
        var first = resource.GetAsync(default).AsTask().ContinueWith(t =>
        {
            // Resumed inline with the failure: like a publisher retrying at once, it asks again while the attempt is still winding up.
            late = resource.GetAsync(default).AsTask();
            return t;
        }, TaskContinuationOptions.ExecuteSynchronously).Unwrap();

        await Assert.ThrowsAsync<IOException>(() => first.WaitAsync(TimeSpan.FromSeconds(30)));
        (await late!.WaitAsync(TimeSpan.FromSeconds(30))).Open.Should().BeTrue("the late caller got the second attempt's connection");
        attempts.Should().Be(2);
        resource.Status.State.Should().Be(ConnectionState.Connected);
    }

    [Fact]
    public async Task A_connection_that_broke_while_idle_is_reopened_and_counted_as_a_reconnect()
    {
        var opened = new List<Connection>();
        await using var resource = new ReconnectingResource<Connection>("test", _ =>
        {
            var connection = new Connection();
            lock (opened) opened.Add(connection);
            return Task.FromResult(connection);
        }, c => c.Open, _ => Task.CompletedTask, NoWait);

        var one = await resource.GetAsync(default);
        one.Open = false;
        var two = await resource.GetAsync(default);

        two.Should().NotBeSameAs(one);
        opened.Should().HaveCount(2);
        resource.Status.Snapshot.Reconnects.Should().Be(1);
    }
}
