using O2X.Streams.Connectors;
using RabbitMQ.Client;

namespace O2X.Streams.Amqp;

/// <summary>
/// Publishes to RabbitMQ with publisher confirms: <see cref="PublishAsync"/> completes only when the broker
/// has confirmed the message (it is then durable if persistent and routed to a durable queue), and throws if
/// the broker nacked it or the connection failed — the caller decides whether to publish again (message ids
/// stay the same, so consumers deduplicate). Many publishes may be in flight; the broker confirms them in
/// batches. After a connection failure the next publish reconnects (with backoff between failed attempts).
/// <see cref="PublishAllAsync"/> keeps a batch's order even across a connection failure: the whole batch goes on one
/// channel, so no message of it can reach the broker on a new connection ahead of one lost with the old.
/// </summary>
public sealed class AmqpPublisher : IAsyncDisposable
{
    private readonly AmqpPublishSettings _settings;
    private readonly ReconnectingResource<Channel> _channel;

    public AmqpPublisher(AmqpPublishSettings settings)
    {
        _settings = settings;
        _channel = new ReconnectingResource<Channel>(
            "amqp-publisher:" + (settings.Exchange.Length > 0 ? settings.Exchange : settings.RoutingKey ?? "default"),
            OpenAsync, c => c.Model.IsOpen, c => c.DisposeAsync().AsTask(), settings.Connection.Reconnect);
    }

    public ConnectionStatus Status => _channel.Status;

    /// <summary>Publishes and waits for the broker's confirm.</summary>
    public Task PublishAsync(AmqpMessage message, string? routingKey = null, CancellationToken cancellation = default) =>
        PublishAllAsync([message], routingKey, cancellation);

    /// <summary>
    /// Publishes <paramref name="messages"/> in order on one channel and waits for every confirm. If the channel
    /// breaks meanwhile, the rest of the batch fails with it (it is not sent on a new connection); publishing the
    /// batch again keeps the order of first arrivals.
    /// </summary>
    public async Task PublishAllAsync(IReadOnlyList<AmqpMessage> messages, string? routingKey = null, CancellationToken cancellation = default)
    {
        var channel = (await _channel.GetAsync(cancellation).ConfigureAwait(false)).Model;
        var confirms = new List<Task>(messages.Count);
        try
        {
            // Issued in order on the one channel; the confirms are awaited together (the broker batches them).
            foreach (var message in messages)
            {
                var key = routingKey ?? message.RoutingKey ?? _settings.RoutingKey
                          ?? throw new ArgumentException("No routing key: give one, or configure one in the publish settings.", nameof(routingKey));
                var properties = new BasicProperties
                {
                    MessageId = message.MessageId,
                    CorrelationId = message.CorrelationId,
                    ContentType = message.ContentType ?? "application/json",
                    DeliveryMode = _settings.Persistent ? DeliveryModes.Persistent : DeliveryModes.Transient,
                    Headers = message.Headers?.ToDictionary(h => h.Key, h => (object?)h.Value),
                };
                confirms.Add(channel.BasicPublishAsync(_settings.Exchange, key, mandatory: false, properties, message.Body, cancellation).AsTask());
            }

            await Task.WhenAll(confirms).ConfigureAwait(false);
        }
        catch (Exception) when (!channel.IsOpen)
        {
            _channel.ReportBroken("channel closed while publishing");
            throw;
        }
    }

    private async Task<Channel> OpenAsync(CancellationToken cancellation)
    {
        var connection = await _settings.Connection.CreateFactory()
            .CreateConnectionAsync(_settings.Connection.ClientName + "-publisher", cancellation).ConfigureAwait(false);
        try
        {
            var model = await connection.CreateChannelAsync(new CreateChannelOptions(
                publisherConfirmationsEnabled: true,
                publisherConfirmationTrackingEnabled: true), cancellation).ConfigureAwait(false);
            await _settings.Topology.DeclareAsync(model, cancellation).ConfigureAwait(false);
            return new Channel(connection, model);
        }
        catch
        {
            await new Channel(connection, null).DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => _channel.DisposeAsync();

    private sealed record Channel(IConnection Connection, IChannel? OpenedModel) : IAsyncDisposable
    {
        public IChannel Model => OpenedModel!;

        public async ValueTask DisposeAsync()
        {
            foreach (var disposable in new IAsyncDisposable?[] { OpenedModel, Connection })
            {
                if (disposable is null) continue;
                try
                {
                    await disposable.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or RabbitMQ.Client.Exceptions.AlreadyClosedException or IOException)
                {
                    // Closing what the broker or the network already closed: nothing left to release.
                }
            }
        }
    }
}
