using System.Collections.Concurrent;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Streams.Connectors;
using O2X.Streams.Dsl;
using O2X.Streams.Stomp;
using O2X.Testing;
using Xunit.Abstractions;

namespace O2X.Streams.Tests;

/// <summary>
/// Amazon MQ's active/standby, for real: two ActiveMQ instances on one KahaDB store; the active one is killed with
/// <c>kill -9</c> mid-stream, the standby takes the store's lock and opens its ports, and the connector moves there.
/// </summary>
public sealed class StompFailoverTests(ITestOutputHelper output) : TestKit, IAsyncLifetime
{
    private ActiveMqBroker _active = null!;
    private ActiveMqBroker _standby = null!;

    public async Task InitializeAsync()
    {
        _active = await ActiveMqBroker.StartAsync();
        _standby = await _active.StartStandbyAsync();
    }

    public async Task DisposeAsync()
    {
        await _standby.DisposeAsync();
        await _active.DisposeAsync();
    }

    [Fact]
    public async Task Killing_the_active_broker_mid_stream_loses_nothing_that_was_acknowledged()
    {
        const int count = 1000;
        var failover = _active.Settings($"failover:({_active.StompSsl},{_standby.StompSsl})")
            .WithTrustedCertificatesFromPem(_active.CaPath)
            .WithReconnect(new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1)));
        var materializer = Sys.Materializer();
        var consumed = new ConcurrentDictionary<string, int>();
        var lostAcks = 0;
        var (control, _) = StompSource.Committable(new StompSourceSettings(failover, "FAILOVER").WithPrefetch(50))
            .SelectAsync(8, async c =>
            {
                consumed.AddOrUpdate(c.Message.Headers!["message_id"], 1, (_, n) => n + 1);
                try
                {
                    await c.Handle.CommitAsync();
                }
                catch (StompConnectionException)
                {
                    // An ACK on the connection the kill cut: refused, and the standby redelivers the message (as a binding does).
                    Interlocked.Increment(ref lostAcks);
                }

                return c;
            })
            .ToMaterialized(Sink.Ignore<Committable<StompMessage>>(), Keep.Both)
            .Run(materializer);

        // The producer publishes in batches and, like the outbox relay, sends a batch again when it failed: at least once.
        var republished = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var changes = new ConcurrentQueue<string>();
        control.Status.Changed += s => changes.Enqueue($"{clock.Elapsed.TotalSeconds:0.0}s consumer {s.State} {s.LastError}");
        var lastPublishError = "";
        var killed = false;
        await using (var publisher = new StompPublisher(new StompPublishSettings(failover, "FAILOVER")))
        {
            publisher.Status.Changed += s => changes.Enqueue($"{clock.Elapsed.TotalSeconds:0.0}s publisher {s.State} {s.LastError}");
            for (var start = 0; start < count; start += 50)
            {
                if (!killed && start >= count / 4)
                {
                    await Diagnosed(Eventually.TrueAsync(() => consumed.Count >= count / 8, TimeSpan.FromSeconds(60), "consuming is under way"));
                    changes.Enqueue($"{clock.Elapsed.TotalSeconds:0.0}s killing the active broker ({consumed.Count} consumed)");
                    _active.Kill();
                    changes.Enqueue($"{clock.Elapsed.TotalSeconds:0.0}s the active broker is gone");
                    _ = WatchStandbyPortAsync();
                    killed = true;
                }

                var batch = Enumerable.Range(start, 50).Select(i => new StompMessage("{}"u8.ToArray(), $"m-{i}")).ToList();
                await Diagnosed(Eventually.TrueAsync(async () =>
                {
                    try
                    {
                        await publisher.PublishAllAsync(batch);
                        return true;
                    }
                    catch (Exception ex) when (ex is StompConnectionException or TimeoutException or IOException or System.Net.Sockets.SocketException)
                    {
                        Interlocked.Increment(ref republished);
                        lastPublishError = $"{clock.Elapsed.TotalSeconds:0.0}s {ex.GetType().Name}: {ex.Message}";
                        return false;
                    }
                }, TimeSpan.FromSeconds(90), $"the batch from m-{start} is published on the standby"));
            }

            publisher.Status.Snapshot.Reconnects.Should().BeGreaterThanOrEqualTo(1, "the publisher moved to the standby");
        }

        await Diagnosed(Eventually.TrueAsync(() => consumed.Count == count, TimeSpan.FromSeconds(120), "every message reaches the consumer"));
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var copies = consumed.Values.Sum() - count;
        output.WriteLine($"[failover] {count} messages, {republished} batch retries, {lostAcks} ACKs refused by the kill, {copies} consumed twice");
        control.Status.Snapshot.Reconnects.Should().BeGreaterThanOrEqualTo(1, "the consumer moved to the standby");
        await using var inspector = new StompQueueInspector(_active.Settings(_standby.Stomp));
        await Diagnosed(Eventually.TrueAsync(async () => (await inspector.GetAsync("FAILOVER", TimeSpan.FromSeconds(5)))?.Size == 0, TimeSpan.FromSeconds(30),
            "nothing is left on the standby: every message was acknowledged there or before the kill"));

        // When the standby's TLS port first accepts a connection, for the record of a failure.
        async Task WatchStandbyPortAsync()
        {
            while (clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                using var probe = new System.Net.Sockets.TcpClient();
                try
                {
                    await probe.ConnectAsync("127.0.0.1", _standby.StompSslPort);
                    changes.Enqueue($"{clock.Elapsed.TotalSeconds:0.0}s the standby accepts connections");
                    return;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    await Task.Delay(100);
                }
            }
        }

        // A wait that times out says what both ends saw, and what the standby's log says (lock, store recovery, ports).
        async Task Diagnosed(Task wait)
        {
            try
            {
                await wait;
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"{ex.Message} (after {clock.Elapsed.TotalSeconds:0.0} s; {consumed.Count} of {count} consumed, " +
                                           $"{republished} batch retries, last publish error: {lastPublishError}); " +
                                           $"connection changes: {string.Join(" | ", changes)}; consumer now {control.Status.Snapshot}; " +
                                           $"active: {_active.Diagnose()}; standby: {_standby.Diagnose()}", ex);
            }
        }
    }
}
