using System.Collections.Concurrent;
using System.Text.Json;

namespace O2X.Streams.Stomp;

/// <summary>What ActiveMQ's statistics plugin reports for one queue.</summary>
/// <param name="Size">Messages on the queue (not yet acknowledged, including those delivered and in flight).</param>
/// <param name="InFlight">Delivered to consumers and not acknowledged yet.</param>
public sealed record StompQueueStatistics(string Queue, long Size, long ConsumerCount, long EnqueueCount, long DequeueCount, long InFlight);

/// <summary>
/// Reads queue statistics from ActiveMQ's <c>statisticsBrokerPlugin</c> over STOMP: a message to
/// <c>/queue/ActiveMQ.Statistics.Destination.NAME</c> with a <c>reply-to</c> temporary queue is answered with a map of the
/// queue's counters (asked for as JSON with <c>transformation:jms-map-json</c>). The broker does not answer for a queue
/// that does not exist: <see cref="GetAsync"/> then returns null after its timeout. One connection, opened on first use and
/// reopened after a failure; thread-safe.
/// </summary>
public sealed class StompQueueInspector : IAsyncDisposable
{
    private readonly StompConnectionSettings _settings;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StompQueueStatistics>> _waiting = new(StringComparer.Ordinal);
    private readonly string _replyTo = "/temp-queue/o2x-statistics-" + Guid.NewGuid().ToString("N")[..12];
    private StompConnection? _connection;

    public StompQueueInspector(StompConnectionSettings settings) => _settings = settings;

    /// <summary>The queue's statistics, or null when the broker did not answer within <paramref name="timeout"/> (no such queue).</summary>
    public async Task<StompQueueStatistics?> GetAsync(string queue, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var name = StompDestination.Normalize(queue);
        if (!name.StartsWith("/queue/", StringComparison.Ordinal)) throw new ArgumentException($"Statistics are read for queues only (was '{queue}').", nameof(queue));
        name = name["/queue/".Length..];
        var connection = await ConnectionAsync(cancellation).ConfigureAwait(false);
        var correlation = Guid.NewGuid().ToString("N");
        var reply = new TaskCompletionSource<StompQueueStatistics>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[correlation] = reply;
        try
        {
            connection.Send(new StompFrame("SEND", [
                new("destination", "/queue/ActiveMQ.Statistics.Destination." + name),
                new("reply-to", _replyTo),
                new("correlation-id", correlation),
                new("persistent", "false"),
            ]));
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            cancel.CancelAfter(timeout);
            try
            {
                // A connection that dies meanwhile is an error, not "no such queue".
                var first = await Task.WhenAny(reply.Task, connection.Closed).WaitAsync(cancel.Token).ConfigureAwait(false);
                if (first != reply.Task && !reply.Task.IsCompleted)
                    throw new StompConnectionException("The STOMP connection closed before the statistics arrived: " + connection.Closed.Result);
                return await reply.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                return null;
            }
        }
        finally
        {
            _waiting.TryRemove(correlation, out _);
        }
    }

    private async Task<StompConnection> ConnectionAsync(CancellationToken cancellation)
    {
        if (_connection is { IsOpen: true } open) return open;
        await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (_connection is { IsOpen: true } reopened) return reopened;
            if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
            var connection = await StompConnection.ConnectAsync(_settings, OnReply, cancellation).ConfigureAwait(false);
            try
            {
                await connection.SendWithReceiptAsync("SUBSCRIBE", [
                    new("id", "statistics"),
                    new("destination", _replyTo),
                    new("ack", "auto"),
                    new("transformation", "jms-map-json"),
                ], default, _settings.ConnectTimeout).ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _connection = connection;
            return connection;
        }
        finally
        {
            _lock.Release();
        }
    }

    private void OnReply(StompFrame frame)
    {
        if (frame["correlation-id"] is not { } correlation || !_waiting.TryGetValue(correlation, out var waiting)) return;
        try
        {
            waiting.TrySetResult(Parse(frame.Body.Span));
        }
        catch (Exception ex)
        {
            // Whatever is wrong with one reply fails that request, never the read loop (and with it the connection).
            waiting.TrySetException(new FormatException("Not a statistics reply of ActiveMQ: " + ex.Message, ex));
        }
    }

    /// <summary>
    /// Reads the JSON form of a JMS MapMessage: <c>{"map":{"entry":[{"string":"size","long":2}, {"string":["destinationName","queue://X"]}, …]}}</c>
    /// (a string value makes the entry's "string" an array of name and value).
    /// </summary>
    internal static StompQueueStatistics Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var entry in document.RootElement.GetProperty("map").GetProperty("entry").EnumerateArray())
        {
            var key = entry.GetProperty("string");
            if (key.ValueKind == JsonValueKind.Array)
            {
                values[key[0].GetString()!] = key[1];
                continue;
            }

            foreach (var property in entry.EnumerateObject())
                if (property.Name != "string") values[key.GetString()!] = property.Value;
        }

        long Long(string name) => values.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
        var destination = values.TryGetValue("destinationName", out var d) ? d.GetString() ?? "" : "";
        return new StompQueueStatistics(destination.StartsWith("queue://", StringComparison.Ordinal) ? destination["queue://".Length..] : destination,
            Long("size"), Long("consumerCount"), Long("enqueueCount"), Long("dequeueCount"), Long("inflightCount"));
    }

    public async ValueTask DisposeAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }
        finally
        {
            _lock.Release();
        }
    }
}
