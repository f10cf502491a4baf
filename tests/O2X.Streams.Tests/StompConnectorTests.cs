using System.Collections.Concurrent;
using System.Text;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Streams.Connectors;
using O2X.Streams.Dsl;
using O2X.Streams.Stomp;
using O2X.Testing;

namespace O2X.Streams.Tests;

/// <summary>The STOMP connector against the real ActiveMQ 5.17 that ./test.sh starts (scripts/activemq.sh).</summary>
public sealed class StompConnectorTests : TestKit, IAsyncLifetime
{
    private readonly IMaterializer _materializer;
    private readonly string _queue = "o2x-stomp-" + Guid.NewGuid().ToString("N")[..10];
    private readonly StompConnectionSettings _connection = ActiveMqBroker.SharedSettings();
    private readonly StompQueueInspector _inspector = new(ActiveMqBroker.SharedSettings());

    public StompConnectorTests() => _materializer = Sys.Materializer();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _inspector.DisposeAsync();

    [Fact]
    public async Task Published_messages_are_consumed_with_their_ids_and_headers_and_acknowledged()
    {
        await using (var publisher = new StompPublisher(new StompPublishSettings(_connection, _queue)))
        {
            // Headers with the characters STOMP escapes: they must arrive as they were sent.
            await publisher.PublishAllAsync(Enumerable.Range(0, 200).Select(i => new StompMessage(Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), $"m-{i}",
                $"c-{i}", new Dictionary<string, string> { ["n"] = i.ToString(), ["odd:name"] = "line\nbreak\\" })).ToList());
            publisher.Status.State.Should().Be(ConnectionState.Connected);
        }

        var messages = await TakeAsync(200, c => c.Handle.CommitAsync());

        messages.Select(m => m.Headers!["message_id"]).Should().BeEquivalentTo(Enumerable.Range(0, 200).Select(i => $"m-{i}"));
        var first = messages.Single(m => m.Headers!["message_id"] == "m-7");
        first.CorrelationId.Should().Be("c-7");
        Encoding.UTF8.GetString(first.Body.Span).Should().Be("{\"n\":7}");
        first.Headers!["odd:name"].Should().Be("line\nbreak\\");
        first.MessageId.Should().StartWith("ID:", "the broker's JMSMessageID, the same on every redelivery");
        first.Redelivered.Should().BeFalse();
        messages.Select(m => m.Headers!["message_id"]).Should().Equal(Enumerable.Range(0, 200).Select(i => $"m-{i}"), "one consumer sees queue order");
        await AssertQueueAsync(s => s.Size.Should().Be(0, "every message was acknowledged"));
    }

    [Fact]
    public async Task The_prefetch_bounds_what_is_delivered_unacknowledged()
    {
        await PublishAsync(300);
        var held = new ConcurrentBag<Committable<StompMessage>>();
        var gate = new TaskCompletionSource();
        var (control, _) = StompSource.Committable(new StompSourceSettings(_connection, _queue).WithPrefetch(10))
            .SelectAsync(50, async c =>
            {
                held.Add(c);
                await gate.Task;
                await c.Handle.CommitAsync();
                return c;
            })
            .ToMaterialized(Sink.Ignore<Committable<StompMessage>>(), Keep.Both)
            .Run(_materializer);

        await Eventually.TrueAsync(() => held.Count >= 10, TimeSpan.FromSeconds(30), "the first ten are delivered");
        var statistics = await _inspector.GetAsync(_queue, TimeSpan.FromSeconds(10));
        statistics!.InFlight.Should().Be(10, "the broker stops at the prefetch");
        statistics.Size.Should().Be(300);
        statistics.ConsumerCount.Should().Be(1);
        held.Count.Should().Be(10);

        gate.SetResult();
        await Eventually.TrueAsync(async () => (await _inspector.GetAsync(_queue, TimeSpan.FromSeconds(10)))?.Size == 0, TimeSpan.FromSeconds(60), "all are consumed");
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_released_message_comes_back_with_the_same_message_id_marked_redelivered()
    {
        await PublishAsync(3);
        var seen = new ConcurrentQueue<StompMessage>();
        var committed = new ConcurrentDictionary<string, StompMessage>();
        var released = 0;
        // Until all three are committed: m-2, prefetched by the consumer that went away with the release, may come back
        // after the redelivered m-1 (a clean-clone run beside stress-ng once stopped at m-1 and found m-2 still queued).
        var (control, done) = StompSource.Committable(new StompSourceSettings(_connection, _queue))
            .SelectAsync(1, async c =>
            {
                var id = c.Message.Headers!["message_id"];
                seen.Enqueue(c.Message);
                if (id == "m-1" && Interlocked.Exchange(ref released, 1) == 0)
                {
                    await c.Handle.ReleaseAsync();
                }
                else
                {
                    await c.Handle.CommitAsync();
                    committed.TryAdd(id, c.Message);
                }

                return c.Message;
            })
            .Where(_ => committed.Count == 3)
            .Take(1)
            .ToMaterialized(Sink.First<StompMessage>(), Keep.Both)
            .Run(_materializer);

        await done.WaitAsync(TimeSpan.FromSeconds(60));
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var first = seen.First(m => m.Headers!["message_id"] == "m-1");
        var again = committed["m-1"];
        again.Redelivered.Should().BeTrue("the released m-1 is the one committed");
        again.MessageId.Should().Be(first.MessageId);
        control.Status.Snapshot.Reconnects.Should().BeGreaterThanOrEqualTo(1, "ActiveMQ gives a message back when its consumer goes");
        await AssertQueueAsync(s => s.Size.Should().Be(0));
    }

    [Fact]
    public async Task A_rejected_message_goes_to_the_brokers_dead_letter_queue_with_its_origin()
    {
        await PublishAsync(2);
        var messages = await TakeAsync(2, c => c.Message.Headers!["message_id"] == "m-0" ? c.Handle.RejectAsync() : c.Handle.CommitAsync());
        messages.Should().HaveCount(2);

        var id = messages.Single(m => m.Headers!["message_id"] == "m-0").MessageId;
        var dead = await StompSource.Committable(new StompSourceSettings(_connection, "ActiveMQ.DLQ")
                .WithSubscribeHeaders(new Dictionary<string, string> { ["selector"] = $"JMSMessageID = '{id}'" }))
            .SelectAsync(1, async c =>
            {
                await c.Handle.CommitAsync();
                return c.Message;
            })
            .RunWith(Sink.First<StompMessage>(), _materializer).WaitAsync(TimeSpan.FromSeconds(30));
        dead.Headers!["original-destination"].Should().Be("/queue/" + _queue);
        dead.Headers["message_id"].Should().Be("m-0");
        await AssertQueueAsync(s => s.Size.Should().Be(0));
    }

    [Fact]
    public async Task A_message_too_large_for_the_connection_arrives_marked_without_its_body_and_the_next_one_follows_on_the_same_connection()
    {
        var huge = Encoding.UTF8.GetBytes("{\"blob\":\"" + new string('x', 200_000) + "\"}");
        await using (var publisher = new StompPublisher(new StompPublishSettings(_connection, _queue)))
        {
            await publisher.PublishAsync(new StompMessage(huge, "huge"));
            await publisher.PublishAsync(new StompMessage("{}"u8.ToArray(), "small"));
        }

        var (control, done) = StompSource.Committable(new StompSourceSettings(_connection.WithMaxFrameBytes(64 * 1024), _queue))
            .SelectAsync(1, async c =>
            {
                await c.Handle.CommitAsync();
                return c.Message;
            })
            .Take(2)
            .ToMaterialized(Sink.Seq<StompMessage>(), Keep.Both)
            .Run(_materializer);
        var messages = await done.WaitAsync(TimeSpan.FromSeconds(60));
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        messages[0].Headers!["message_id"].Should().Be("huge");
        messages[0].Headers![StompFrameCodec.OversizeHeader].Should().Be(huge.Length.ToString());
        messages[0].Body.IsEmpty.Should().BeTrue();
        messages[1].Headers!["message_id"].Should().Be("small");
        Encoding.UTF8.GetString(messages[1].Body.Span).Should().Be("{}");
        control.Status.Snapshot.Reconnects.Should().Be(0, "the connection read past the oversized body instead of breaking");
        await AssertQueueAsync(s => s.Size.Should().Be(0));
    }

    [Fact]
    public async Task Tls_with_the_brokers_certificate_as_the_trusted_ca_works_and_without_it_is_refused()
    {
        var tls = new StompConnectionSettings(TestServices.ActiveMqStompSsl)
            .WithCredentials(TestServices.ActiveMqUser, TestServices.ActiveMqPassword)
            .WithTrustedCertificatesFromPem(TestServices.ActiveMqCa);
        await using (var publisher = new StompPublisher(new StompPublishSettings(tls, _queue)))
            await publisher.PublishAsync(new StompMessage("{}"u8.ToArray(), "over-tls"));
        var messages = await TakeAsync(1, c => c.Handle.CommitAsync(), tls);
        messages.Single().Headers!["message_id"].Should().Be("over-tls");

        var untrusted = new StompConnectionSettings(TestServices.ActiveMqStompSsl).WithCredentials(TestServices.ActiveMqUser, TestServices.ActiveMqPassword);
        await using var refused = new StompPublisher(new StompPublishSettings(untrusted, _queue));
        var failure = await Assert.ThrowsAsync<StompConnectionException>(() => refused.PublishAsync(new StompMessage("{}"u8.ToArray())));
        failure.Message.Should().Contain("TLS handshake failed");
    }

    [Fact]
    public async Task Wrong_credentials_are_a_clear_error_that_does_not_show_the_password()
    {
        var wrong = new StompConnectionSettings(TestServices.ActiveMqStomp).WithCredentials(TestServices.ActiveMqUser, "not-the-password-42");
        await using var publisher = new StompPublisher(new StompPublishSettings(wrong, _queue));
        var failure = await Assert.ThrowsAsync<StompConnectionException>(() => publisher.PublishAsync(new StompMessage("{}"u8.ToArray())));
        failure.Message.Should().Contain("refused the connection");
        failure.Message.Should().NotContain("not-the-password-42");
        publisher.Status.State.Should().Be(ConnectionState.Reconnecting);
        publisher.Status.Snapshot.LastError.Should().NotContain("not-the-password-42");
        wrong.ToString().Should().NotContain("not-the-password-42");
    }

    [Fact]
    public async Task Heart_beats_go_both_ways_and_keep_an_idle_connection_open()
    {
        // ActiveMQ closes a connection that misses the heart-beats it agreed to (after 1.5 intervals); we close one whose broker
        // falls silent. Three heart-beats each way with the connection still open and usable: both sides kept their word. The
        // interval leaves a loaded 2-core machine seconds, not milliseconds, of slack.
        await using var connection = await StompConnection.ConnectAsync(_connection.WithHeartBeat(TimeSpan.FromSeconds(2)), _ => { }, default);
        await Eventually.TrueAsync(() => !connection.IsOpen || (connection.HeartBeatsReceived >= 3 && connection.HeartBeatsSent >= 3),
            TimeSpan.FromSeconds(60), "heart-beats are exchanged while idle");
        connection.IsOpen.Should().BeTrue(connection.Closed.IsCompleted ? "it closed: " + await connection.Closed : "");
        await connection.SendWithReceiptAsync("SEND", [new("destination", "/queue/" + _queue)], "{}"u8.ToArray(), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_broker_that_stops_answering_is_detected_by_the_missing_heart_beats()
    {
        // A listener that accepts, answers CONNECTED with heart-beats promised, and then says nothing.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var accepted = Task.Run(async () =>
        {
            var client = await silent.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4096];
            var read = 0;
            while (!Encoding.ASCII.GetString(buffer, 0, read).Contains('\0')) read += await stream.ReadAsync(buffer.AsMemory(read));
            await stream.WriteAsync(StompFrameCodec.ToBytes(new StompFrame("CONNECTED", [new("version", "1.2"), new("heart-beat", "200,200")])));
            return client;
        });
        await using var connection = await StompConnection.ConnectAsync(new StompConnectionSettings($"stomp://127.0.0.1:{port}")
            .WithHeartBeat(TimeSpan.FromMilliseconds(200)), _ => { }, default);
        using var client = await accepted;

        var reason = await connection.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        reason.Should().Contain("no heart-beat from the broker");
    }

    private async Task PublishAsync(int count)
    {
        await using var publisher = new StompPublisher(new StompPublishSettings(_connection, _queue));
        await publisher.PublishAllAsync(Enumerable.Range(0, count).Select(i => new StompMessage("{}"u8.ToArray(), $"m-{i}")).ToList());
    }

    private async Task AssertQueueAsync(Action<StompQueueStatistics> assert)
    {
        // The broker settles acknowledgements asynchronously: wait until it reports the queue drained, then check it all.
        await Eventually.TrueAsync(async () => (await _inspector.GetAsync(_queue, TimeSpan.FromSeconds(10)))?.InFlight == 0, TimeSpan.FromSeconds(30),
            "the broker has processed the acknowledgements");
        var statistics = await _inspector.GetAsync(_queue, TimeSpan.FromSeconds(10));
        statistics.Should().NotBeNull("the queue exists");
        assert(statistics!);
    }

    private async Task<IReadOnlyList<StompMessage>> TakeAsync(int count, Func<Committable<StompMessage>, ValueTask> settle, StompConnectionSettings? connection = null)
    {
        var (control, done) = StompSource.Committable(new StompSourceSettings(connection ?? _connection, _queue))
            .SelectAsync(1, async c =>
            {
                await settle(c);
                return c.Message;
            })
            .Take(count)
            .ToMaterialized(Sink.Seq<StompMessage>(), Keep.Both)
            .Run(_materializer);
        var messages = await done.WaitAsync(TimeSpan.FromSeconds(60));
        await control.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return messages;
    }
}
