using Amqp;
using Amqp.Framing;
using O2X.Streams.Connectors;

namespace O2X.Streams.Amqp10;

/// <summary>The committable AMQP 1.0 source (see <see cref="Dsl.Amqp10Source.Committable"/>).</summary>
internal sealed class Amqp10SourceStage(Amqp10SourceSettings settings)
    : ReconnectingSourceStage<Amqp10Message>("amqp10:" + settings.Address, settings.Connection.Reconnect)
{
    protected override async Task<IConsumerSession> OpenAsync(IConsumerSessionEvents<Amqp10Message> events, CancellationToken cancellation)
    {
        var connection = await settings.Connection.ConnectAsync().ConfigureAwait(false);
        try
        {
            var session = new Session(connection);
            var link = new ReceiverLink(session, "o2x-" + Guid.NewGuid().ToString("N")[..8], settings.Address);
            var consumer = new Consumer(connection, link, events, settings.Credit);
            connection.AddClosedCallback((_, error) => events.Lost(error?.Description ?? "connection closed"));
            link.AddClosedCallback((_, error) => events.Lost(error?.Description ?? "link detached"));
            // Start with no credit (only to install the callback), then manage the credit ourselves (see Consumer).
            link.Start(0, (_, message) => consumer.Deliver(message));
            consumer.GrantInitialCredit();
            return consumer;
        }
        catch
        {
            await connection.CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Credit is granted only when the broker has used all it was given, and then up to <c>maxCredit</c> minus what
    /// is still unsettled here. Granting while transfers are in flight is correct AMQP 1.0, but some brokers
    /// (RabbitMQ's AMQP 1.0 plugin before 3.13) then count the new credit from their own delivery count and
    /// overrun the link, which AMQPNetLite answers by closing it — redelivering everything unsettled. Granting on
    /// exhaustion is safe with every broker and still keeps <c>maxCredit</c> as the bound on memory.
    /// </summary>
    private sealed class Consumer(Connection connection, ReceiverLink link, IConsumerSessionEvents<Amqp10Message> events, int maxCredit) : IConsumerSession
    {
        private readonly object _gate = new();
        private int _outstanding;
        private int _credit;

        public int Outstanding => Volatile.Read(ref _outstanding);

        public void GrantInitialCredit()
        {
            lock (_gate) Refill();
        }

        public void Deliver(Message message)
        {
            lock (_gate)
            {
                _outstanding++;
                _credit--;
            }

            events.Deliver(new Committable<Amqp10Message>(ToMessage(message), new Handle(this, message)));
        }

        /// <summary>Called with the gate held: tops the credit up if the broker has used it all and there is room.</summary>
        private void Refill()
        {
            if (_credit > 0 || link.IsClosed) return;
            var room = maxCredit - _outstanding;
            // Wait for half the window to be free, so that credit goes out in batches rather than one at a time.
            if (room < Math.Max(1, maxCredit / 2)) return;
            _credit += room;
            link.SetCredit(room, CreditMode.Manual);
        }

        public async ValueTask DisposeAsync()
        {
            // Closing the connection ends the link with it. The link is not detached first: RabbitMQ's AMQP 1.0 plugin (3.10)
            // does not answer the detach of a link that still holds an unsettled delivery (seen: one redelivered to a consumer
            // that was closing), so the close waited for its 60 s timeout while the broker kept the message from everyone else.
            // A connection close is answered at once, and every unsettled message goes back to the queue.
            if (!connection.IsClosed) await connection.CloseAsync().ConfigureAwait(false);
        }

        private void Settle(Action<ReceiverLink> settle)
        {
            // A closed link cannot settle; the broker redelivers what it had sent on it.
            if (!link.IsClosed) settle(link);
            lock (_gate)
            {
                _outstanding--;
                Refill();
            }

            events.Settled();
        }

        private static Amqp10Message ToMessage(Message message)
        {
            var body = message.Body switch
            {
                byte[] bytes => bytes,
                string text => System.Text.Encoding.UTF8.GetBytes(text),
                null => [],
                var other => System.Text.Encoding.UTF8.GetBytes(Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture) ?? ""),
            };
            Dictionary<string, string>? properties = null;
            if (message.ApplicationProperties?.Map is { Count: > 0 } map)
            {
                properties = new Dictionary<string, string>();
                foreach (var key in map.Keys)
                    if (Convert.ToString(map[key], System.Globalization.CultureInfo.InvariantCulture) is { } value)
                        properties[key.ToString()!] = value;
            }

            return new Amqp10Message(body, message.Properties?.MessageId, message.Properties?.CorrelationId, properties,
                message.Header?.DeliveryCount ?? 0);
        }

        private sealed class Handle(Consumer consumer, Message message) : ICommitHandle
        {
            public ValueTask CommitAsync(CancellationToken cancellation = default)
            {
                consumer.Settle(l => l.Accept(message));
                return ValueTask.CompletedTask;
            }

            public ValueTask ReleaseAsync(CancellationToken cancellation = default)
            {
                consumer.Settle(l => l.Release(message));
                return ValueTask.CompletedTask;
            }

            public ValueTask RejectAsync(CancellationToken cancellation = default)
            {
                consumer.Settle(l => l.Reject(message, new Error(new global::Amqp.Types.Symbol("amqp:internal-error")) { Description = "refused by O2X" }));
                return ValueTask.CompletedTask;
            }
        }
    }
}
