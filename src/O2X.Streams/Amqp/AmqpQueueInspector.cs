using RabbitMQ.Client;

namespace O2X.Streams.Amqp;

/// <summary>
/// Reads a RabbitMQ queue's depth (ready messages) and consumer count with a passive declare, on a connection of
/// its own opened on first use and reopened after a failure. For metrics and health; never changes the broker.
/// </summary>
public sealed class AmqpQueueInspector(AmqpConnectionSettings connection) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async Task<(long Messages, long Consumers)> InspectAsync(string queue, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _connection ??= await connection.WithClientName(connection.ClientName + "-inspector").CreateFactory().CreateConnectionAsync(ct).ConfigureAwait(false);
            // A channel per inspection: a passive declare of a missing queue closes its channel.
            await using var channel = await _connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
            var ok = await channel.QueueDeclarePassiveAsync(queue, ct).ConfigureAwait(false);
            return (ok.MessageCount, ok.ConsumerCount);
        }
        catch (Exception) when (_connection is { IsOpen: false })
        {
            await DropAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DropAsync()
    {
        if (_connection is null) return;
        try
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _connection = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DropAsync().ConfigureAwait(false);
        _gate.Dispose();
    }
}
