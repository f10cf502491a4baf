using System.Globalization;
using O2X.Streams.Connectors;

namespace O2X.Streams.Stomp;

/// <summary>The committable STOMP source (see <see cref="Dsl.StompSource.Committable"/>).</summary>
internal sealed class StompSourceStage(StompSourceSettings settings)
    : ReconnectingSourceStage<StompMessage>("stomp:" + settings.Destination, settings.Connection.Reconnect)
{
    /// <summary>STOMP's own headers of a MESSAGE, not the application's.</summary>
    private static readonly HashSet<string> ProtocolHeaders = new(StringComparer.Ordinal)
    {
        "ack", "subscription", "content-length", "destination", "message-id", "redelivered", "correlation-id",
    };

    protected override async Task<IConsumerSession> OpenAsync(IConsumerSessionEvents<StompMessage> events, CancellationToken cancellation)
    {
        Consumer? consumer = null;
        var connection = await StompConnection.ConnectAsync(settings.Connection, frame => consumer!.Deliver(frame), cancellation).ConfigureAwait(false);
        try
        {
            consumer = new Consumer(connection, events);
            var headers = new List<KeyValuePair<string, string>>
            {
                new("id", "1"),
                new("destination", settings.Destination),
                new("ack", "client-individual"),
                // ActiveMQ: at most this many unacknowledged messages on the subscription — the backpressure.
                new("activemq.prefetchSize", settings.Prefetch.ToString(CultureInfo.InvariantCulture)),
            };
            headers.AddRange(settings.SubscribeHeaders.Where(h => h.Key is not ("id" or "destination" or "ack" or "receipt" or "activemq.prefetchSize")));
            // With a receipt: a subscription the broker refuses (unknown or forbidden destination) fails the open, not later.
            await connection.SendWithReceiptAsync("SUBSCRIBE", headers, default, settings.Connection.ConnectTimeout).ConfigureAwait(false);
            _ = connection.Closed.ContinueWith(t => events.Lost(t.Result), TaskScheduler.Default);
            return consumer;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// One subscription on one connection. Acknowledging is <c>ACK</c> of the message's <c>ack</c> id; refusing is <c>NACK</c>
    /// (ActiveMQ moves the message to its dead-letter queue, <c>ActiveMQ.DLQ</c> by default). ActiveMQ gives an unacknowledged
    /// message back only when its consumer goes away, so a release stops taking deliveries, lets the others in flight settle,
    /// and then ends the session: the stage reconnects and the broker redelivers what was released (same <c>message-id</c>,
    /// <c>redelivered:true</c>).
    /// </summary>
    private sealed class Consumer(StompConnection connection, IConsumerSessionEvents<StompMessage> events) : IConsumerSession
    {
        private int _outstanding;
        private int _released;

        public int Outstanding => Volatile.Read(ref _outstanding);

        public void Deliver(StompFrame frame)
        {
            // Released: everything after it comes back on the next connection anyway.
            if (Volatile.Read(ref _released) > 0) return;
            var ack = frame["ack"];
            if (ack is null)
            {
                events.Note("A MESSAGE without an ack header (is the subscription ack:client-individual?) was ignored.");
                return;
            }

            Interlocked.Increment(ref _outstanding);
            events.Deliver(new Committable<StompMessage>(ToMessage(frame), new Handle(this, ack)));
        }

        private static StompMessage ToMessage(StompFrame frame)
        {
            Dictionary<string, string>? headers = null;
            foreach (var (name, value) in frame.Headers)
            {
                if (ProtocolHeaders.Contains(name)) continue;
                headers ??= new Dictionary<string, string>(StringComparer.Ordinal);
                headers.TryAdd(name, value); // a repeated header: the first one counts (STOMP 1.2)
            }

            return new StompMessage(frame.Body, frame["message-id"], frame["correlation-id"], headers,
                string.Equals(frame["redelivered"], "true", StringComparison.OrdinalIgnoreCase), frame["destination"]);
        }

        private void Settle(string command, string ack)
        {
            try
            {
                connection.Send(new StompFrame(command, [new("id", ack)]));
            }
            finally
            {
                Done();
            }
        }

        private void Release()
        {
            Interlocked.Increment(ref _released);
            Done();
        }

        private void Done()
        {
            var left = Interlocked.Decrement(ref _outstanding);
            events.Settled();
            if (left == 0 && Volatile.Read(ref _released) > 0 && connection.IsOpen)
                events.Lost("released messages are given back by reconnecting (ActiveMQ redelivers what its consumer left unacknowledged)");
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();

        private sealed class Handle(Consumer consumer, string ack) : ICommitHandle
        {
            private int _settled;

            public ValueTask CommitAsync(CancellationToken cancellation = default) => Settle("ACK");

            public ValueTask RejectAsync(CancellationToken cancellation = default) => Settle("NACK");

            public ValueTask ReleaseAsync(CancellationToken cancellation = default)
            {
                if (Interlocked.Exchange(ref _settled, 1) == 0) consumer.Release();
                return ValueTask.CompletedTask;
            }

            private ValueTask Settle(string command)
            {
                if (Interlocked.Exchange(ref _settled, 1) != 0) return ValueTask.CompletedTask;
                try
                {
                    consumer.Settle(command, ack);
                    return ValueTask.CompletedTask;
                }
                catch (StompConnectionException ex)
                {
                    return ValueTask.FromException(ex);
                }
            }
        }
    }
}
