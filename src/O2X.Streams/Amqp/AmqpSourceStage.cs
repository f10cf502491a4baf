using O2X.Streams.Connectors;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace O2X.Streams.Amqp;

/// <summary>The committable AMQP 0-9-1 source (see <see cref="Dsl.AmqpSource.Committable"/> for its guarantees).</summary>
internal sealed class AmqpSourceStage(AmqpSourceSettings settings)
    : ReconnectingSourceStage<AmqpMessage>("amqp:" + settings.Queue, settings.Connection.Reconnect)
{
    protected override async Task<IConsumerSession> OpenAsync(IConsumerSessionEvents<AmqpMessage> events, CancellationToken cancellation)
    {
        var connection = await settings.Connection.CreateFactory().CreateConnectionAsync(settings.Connection.ClientName, cancellation).ConfigureAwait(false);
        try
        {
            var channel = await connection.CreateChannelAsync(cancellationToken: cancellation).ConfigureAwait(false);
            await settings.Topology.DeclareAsync(channel, cancellation).ConfigureAwait(false);
            await channel.BasicQosAsync(0, settings.Prefetch, false, cancellation).ConfigureAwait(false);
            var session = new Session(connection, channel, new AckTracker(channel, settings.AckBatch, settings.AckInterval), events);
            connection.ConnectionShutdownAsync += (_, e) =>
            {
                events.Lost(e.ReplyText);
                return Task.CompletedTask;
            };
            channel.ChannelShutdownAsync += (_, e) =>
            {
                events.Lost(e.ReplyText);
                return Task.CompletedTask;
            };
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) =>
            {
                session.Deliver(delivery);
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(settings.Queue, autoAck: false, consumer, cancellation).ConfigureAwait(false);
            return session;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Session(IConnection connection, IChannel channel, AckTracker acks, IConsumerSessionEvents<AmqpMessage> events)
        : IConsumerSession
    {
        public int Outstanding => acks.Outstanding;

        public void Deliver(BasicDeliverEventArgs delivery)
        {
            acks.Track(delivery.DeliveryTag);
            events.Deliver(new Committable<AmqpMessage>(ToMessage(delivery), new Handle(acks, delivery.DeliveryTag, events)));
        }

        /// <summary>Flushes the pending multiple-ack, then closes channel and connection.</summary>
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (channel.IsOpen) await acks.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                await channel.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        private static AmqpMessage ToMessage(BasicDeliverEventArgs delivery)
        {
            var p = delivery.BasicProperties;
            Dictionary<string, string>? headers = null;
            if (p.Headers is { Count: > 0 })
            {
                headers = new Dictionary<string, string>(p.Headers.Count);
                foreach (var (key, value) in p.Headers)
                {
                    var text = value switch
                    {
                        byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
                        null => null,
                        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                    };
                    if (text is not null) headers[key] = text;
                }
            }

            // The body memory belongs to the client only during the callback: copy it.
            return new AmqpMessage(delivery.Body.ToArray(), p.MessageId, p.CorrelationId, headers, p.ContentType, delivery.Redelivered,
                delivery.Exchange, delivery.RoutingKey);
        }
    }

    private sealed class Handle(AckTracker acks, ulong tag, IConsumerSessionEvents<AmqpMessage> events) : ICommitHandle
    {
        public async ValueTask CommitAsync(CancellationToken cancellation = default)
        {
            await acks.AckAsync(tag).ConfigureAwait(false);
            events.Settled();
        }

        public async ValueTask ReleaseAsync(CancellationToken cancellation = default)
        {
            await acks.NackAsync(tag).ConfigureAwait(false);
            events.Settled();
        }

        public async ValueTask RejectAsync(CancellationToken cancellation = default)
        {
            await acks.RejectAsync(tag).ConfigureAwait(false);
            events.Settled();
        }
    }
}
