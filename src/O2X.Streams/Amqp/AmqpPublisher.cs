using O2X.Streams.Connectors;
using RabbitMQ.Client;

namespace O2X.Streams.Amqp;

/// <summary>
/// Publishes to RabbitMQ with publisher confirms: <see cref="PublishAsync"/> completes only when the broker
/// has confirmed the message (it is then durable if persistent and routed to a durable queue), and throws if
/// the broker nacked it or the connection failed — the caller decides whether to publish again (message ids
/// stay the same, so consumers deduplicate). Many publishes may be in flight; the broker confirms them in
/// batches. After a connection failure the next publish reconnects (with backoff between failed attempts).
/// </summary>
public sealed class AmqpPublisher : IAsyncDisposable
{
    private readonly AmqpPublishSettings _settings;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;
    private DateTimeOffset _nextAttempt;
    private int _failures;
    private bool _disposed;

    public AmqpPublisher(AmqpPublishSettings settings)
    {
        _settings = settings;
        Status = new ConnectionStatus("amqp-publisher:" + (settings.Exchange.Length > 0 ? settings.Exchange : settings.RoutingKey ?? "default"));
    }

    public ConnectionStatus Status { get; }

    /// <summary>Publishes and waits for the broker's confirm.</summary>
    public async Task PublishAsync(AmqpMessage message, string? routingKey = null, CancellationToken cancellation = default)
    {
        var channel = await ChannelAsync(cancellation).ConfigureAwait(false);
        var properties = new BasicProperties
        {
            MessageId = message.MessageId,
            CorrelationId = message.CorrelationId,
            ContentType = message.ContentType ?? "application/json",
            DeliveryMode = _settings.Persistent ? DeliveryModes.Persistent : DeliveryModes.Transient,
            Headers = message.Headers?.ToDictionary(h => h.Key, h => (object?)h.Value),
        };
        var key = routingKey ?? message.RoutingKey ?? _settings.RoutingKey
                  ?? throw new ArgumentException("No routing key: give one, or configure one in the publish settings.", nameof(routingKey));
        try
        {
            await channel.BasicPublishAsync(_settings.Exchange, key, mandatory: false, properties, message.Body, cancellation).ConfigureAwait(false);
        }
        catch (Exception) when (!channel.IsOpen)
        {
            Status.Set(ConnectionState.Reconnecting, "channel closed while publishing");
            throw;
        }
    }

    private async ValueTask<IChannel> ChannelAsync(CancellationToken cancellation)
    {
        if (_channel is { IsOpen: true } open) return open;
        await _connectLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_channel is { IsOpen: true } reopened) return reopened;
            var wait = _nextAttempt - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellation).ConfigureAwait(false);
            await CloseAsync().ConfigureAwait(false);
            try
            {
                _connection = await _settings.Connection.CreateFactory().CreateConnectionAsync(_settings.Connection.ClientName + "-publisher", cancellation)
                    .ConfigureAwait(false);
                _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(
                    publisherConfirmationsEnabled: true,
                    publisherConfirmationTrackingEnabled: true), cancellation).ConfigureAwait(false);
                await _settings.Topology.DeclareAsync(_channel, cancellation).ConfigureAwait(false);
                _failures = 0;
                Status.Set(ConnectionState.Connected);
                return _channel;
            }
            catch (Exception ex)
            {
                _failures++;
                _nextAttempt = DateTimeOffset.UtcNow + _settings.Connection.Reconnect.Delay(_failures);
                Status.Set(ConnectionState.Reconnecting, ex.Message);
                await CloseAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private async Task CloseAsync()
    {
        var (channel, connection) = (_channel, _connection);
        _channel = null;
        _connection = null;
        foreach (var disposable in new IAsyncDisposable?[] { channel, connection })
        {
            if (disposable is null) continue;
            try
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or RabbitMQ.Client.Exceptions.AlreadyClosedException or IOException)
            {
                // Closing what the broker or the network already closed.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            await CloseAsync().ConfigureAwait(false);
            Status.Set(ConnectionState.Stopped);
        }
        finally
        {
            _connectLock.Release();
        }
    }
}
