using O2X.Streams.Connectors;

namespace O2X.Streams.Stomp;

/// <summary>
/// Publishes to a STOMP destination with a <c>receipt</c> per SEND: <see cref="PublishAsync"/> completes when the broker
/// acknowledged the frame (for <c>persistent:true</c> on ActiveMQ: after it is in the store), and throws when it answered
/// with an ERROR or the connection broke first. Receipts are pipelined: a batch goes out in one write and its receipts are
/// awaited together. After a failure the next publish reconnects (with backoff), to the first endpoint that answers.
/// </summary>
/// <remarks>
/// The JMS fields a consumer on the old system reads: <c>correlation-id</c> is JMSCorrelationID; the message id travels as
/// the <c>message_id</c> header (a JMS string property: the broker assigns JMSMessageID itself); <c>amq-msg-type:text</c>
/// makes ActiveMQ deliver a TextMessage even though the frame has a <c>content-length</c>.
/// </remarks>
public sealed class StompPublisher : IAsyncDisposable
{
    private readonly StompPublishSettings _settings;
    private readonly ReconnectingResource<StompConnection> _connection;

    public StompPublisher(StompPublishSettings settings)
    {
        _settings = settings;
        _connection = new ReconnectingResource<StompConnection>("stomp-publisher:" + settings.Destination,
            c => StompConnection.ConnectAsync(settings.Connection, _ => { }, c), c => c.IsOpen, c => c.DisposeAsync().AsTask(),
            settings.Connection.Reconnect);
    }

    public ConnectionStatus Status => _connection.Status;

    public Task PublishAsync(StompMessage message, CancellationToken cancellation = default) => PublishAllAsync([message], cancellation);

    /// <summary>
    /// Sends <paramref name="messages"/> in order on one connection and waits for every receipt. If the connection breaks
    /// meanwhile, the rest of the batch fails with it (it is not sent on a new connection); sending the batch again keeps the
    /// order of first arrivals.
    /// </summary>
    public async Task PublishAllAsync(IReadOnlyList<StompMessage> messages, CancellationToken cancellation = default)
    {
        var connection = await _connection.GetAsync(cancellation).ConfigureAwait(false);
        var receipts = new Task[messages.Count];
        try
        {
            for (var i = 0; i < messages.Count; i++)
                receipts[i] = connection.SendWithReceiptAsync("SEND", Headers(messages[i]), messages[i].Body, _settings.ReceiptTimeout);
            await Task.WhenAll(receipts).WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (Exception) when (!connection.IsOpen)
        {
            _connection.ReportBroken("connection closed while publishing: " + (connection.Closed.IsCompleted ? connection.Closed.Result : "closing"));
            throw;
        }
    }

    private List<KeyValuePair<string, string>> Headers(StompMessage message)
    {
        var headers = new List<KeyValuePair<string, string>>(8 + (message.Headers?.Count ?? 0))
        {
            new("destination", _settings.Destination),
            new("persistent", _settings.Persistent ? "true" : "false"),
            new("amq-msg-type", "text"),
            new("content-type", "application/json"),
        };
        if (message.MessageId is not null) headers.Add(new("message_id", message.MessageId));
        if (message.CorrelationId is not null) headers.Add(new("correlation-id", message.CorrelationId));
        if (message.Headers is not null)
            foreach (var (name, value) in message.Headers)
                if (name.Length > 0 && !Reserved(name)) headers.Add(new(name, value));
        return headers;
    }

    /// <summary>
    /// Headers the publisher sets itself, or that would change how the broker treats the frame — a requeued message must not
    /// inherit the expiry (<c>expires</c>) or the delay (<c>AMQ_SCHEDULED_*</c>) of the delivery it came from.
    /// </summary>
    private static bool Reserved(string name) =>
        name is "destination" or "persistent" or "amq-msg-type" or "content-type" or "content-length" or "receipt" or "transaction"
            or "message_id" or "correlation-id" or "reply-to" or "message-id" or "ack" or "subscription" or "redelivered"
            or "expires" or "timestamp" or "priority" or "type"
        || name.StartsWith("JMSX", StringComparison.Ordinal) || name.StartsWith("activemq.", StringComparison.Ordinal)
        || name.StartsWith("AMQ_SCHEDULED_", StringComparison.Ordinal);

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
