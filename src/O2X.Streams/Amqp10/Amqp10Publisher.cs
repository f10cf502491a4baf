using Amqp;
using Amqp.Framing;
using O2X.Streams.Connectors;

namespace O2X.Streams.Amqp10;

/// <summary>
/// Publishes to an AMQP 1.0 address and waits for the broker's settled outcome: <see cref="PublishAsync"/>
/// completes when the message was accepted, and throws when it was rejected or released or the connection
/// failed. Many sends may be in flight. After a failure the next publish reconnects (with backoff).
/// </summary>
public sealed class Amqp10Publisher : IAsyncDisposable
{
    private readonly Amqp10PublishSettings _settings;
    private readonly ReconnectingResource<Sender> _sender;

    public Amqp10Publisher(Amqp10PublishSettings settings)
    {
        _settings = settings;
        _sender = new ReconnectingResource<Sender>("amqp10-publisher:" + settings.Address, OpenAsync,
            s => !s.Link.IsClosed, s => s.CloseAsync(), settings.Connection.Reconnect);
    }

    public ConnectionStatus Status => _sender.Status;

    public Task PublishAsync(Amqp10Message message, CancellationToken cancellation = default) => PublishAllAsync([message], cancellation);

    /// <summary>
    /// Sends <paramref name="messages"/> in order on one link and waits for every outcome. If the link breaks
    /// meanwhile, the rest of the batch fails with it (it is not sent on a new connection); sending the batch again
    /// keeps the order of first arrivals.
    /// </summary>
    public async Task PublishAllAsync(IReadOnlyList<Amqp10Message> messages, CancellationToken cancellation = default)
    {
        var link = (await _sender.GetAsync(cancellation).ConfigureAwait(false)).Link;
        var outcomes = new List<Task>(messages.Count);
        try
        {
            foreach (var message in messages)
            {
                var amqp = new Message
                {
                    BodySection = new Data { Binary = message.Body.ToArray() },
                    Properties = new Properties { MessageId = message.MessageId, CorrelationId = message.CorrelationId },
                    Header = new Header { Durable = _settings.Durable },
                };
                if (message.Properties is { Count: > 0 })
                {
                    amqp.ApplicationProperties = new ApplicationProperties();
                    foreach (var (key, value) in message.Properties) amqp.ApplicationProperties[key] = value;
                }

                outcomes.Add(link.SendAsync(amqp));
            }

            await Task.WhenAll(outcomes).WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (Exception) when (link.IsClosed)
        {
            _sender.ReportBroken("link closed while publishing");
            throw;
        }
    }

    private async Task<Sender> OpenAsync(CancellationToken cancellation)
    {
        var connection = await _settings.Connection.ConnectAsync().ConfigureAwait(false);
        try
        {
            var link = new SenderLink(new Session(connection), "o2x-publisher-" + Guid.NewGuid().ToString("N")[..8], _settings.Address);
            return new Sender(connection, link);
        }
        catch
        {
            await connection.CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => _sender.DisposeAsync();

    private sealed record Sender(Connection Connection, SenderLink Link)
    {
        public async Task CloseAsync()
        {
            // The connection's close ends the link (see Amqp10SourceStage: a detach may go unanswered).
            if (!Connection.IsClosed) await Connection.CloseAsync().ConfigureAwait(false);
        }
    }
}
