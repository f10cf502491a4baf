using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using RabbitMQ.Client;

namespace O2X.Testing.Chaos;

/// <summary>What the broker and the database themselves hold after a run, and every way it breaks "nothing lost, nothing doubled".</summary>
public sealed record InvariantReport(
    int OrdersAccepted,
    int OrdersStored,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Doubled,
    int OutboundReceived,
    int OutboundDistinct,
    IReadOnlyList<string> CopiedMessageIds,
    IReadOnlyList<string> ConflictingMessageIds,
    IReadOnlyList<string> OutOfOrder,
    IReadOnlyList<string> OutboxNotDelivered,
    IReadOnlyList<string> OrdersWithoutOneReceivedResponse,
    long InboundReady,
    long InboundUnacknowledged,
    long OutboxRows,
    long DeadLetters,
    IReadOnlyDictionary<string, int> ErrorQueueCopies)
{
    /// <summary>Identical copies the broker delivered beyond the first of each message id (allowed: at least once).</summary>
    public int Copies => OutboundReceived - OutboundDistinct;

    /// <summary>Every broken invariant, in words; empty when the run kept them all.</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            var v = new List<string>();
            if (Missing.Count > 0) v.Add($"{Missing.Count} orders accepted by the broker are not in the journal (e.g. {string.Join(", ", Missing.Take(5))})");
            if (Doubled.Count > 0) v.Add($"{Doubled.Count} orders are in the journal more than once (e.g. {string.Join(", ", Doubled.Take(5))})");
            if (ConflictingMessageIds.Count > 0)
                v.Add($"{ConflictingMessageIds.Count} outbound message ids carry different messages (e.g. {string.Join(", ", ConflictingMessageIds.Take(5))})");
            if (OutOfOrder.Count > 0)
                v.Add($"{OutOfOrder.Count} outbound messages first arrived after one that follows them in the outbox (e.g. {string.Join(", ", OutOfOrder.Take(5))})");
            if (OutboxNotDelivered.Count > 0)
                v.Add($"{OutboxNotDelivered.Count} outbox messages never reached the broker (e.g. {string.Join(", ", OutboxNotDelivered.Take(5))})");
            if (OrdersWithoutOneReceivedResponse.Count > 0)
                v.Add($"{OrdersWithoutOneReceivedResponse.Count} orders do not have exactly one RECEIVED response (e.g. {string.Join(", ", OrdersWithoutOneReceivedResponse.Take(5))})");
            if (InboundReady + InboundUnacknowledged > 0) v.Add($"the inbound queue still holds {InboundReady} ready and {InboundUnacknowledged} unacknowledged messages");
            if (OutboxRows != OutboundDistinct)
                v.Add($"the outbox holds {OutboxRows} responses but the broker delivered {OutboundDistinct} distinct ones");
            if (DeadLetters > 0) v.Add($"{DeadLetters} messages are stuck as dead letters");
            var wrongCopies = ErrorQueueCopies.Where(e => e.Value != 1).ToList();
            if (wrongCopies.Count > 0) v.Add($"{wrongCopies.Count} refused messages are not in the error queue exactly once (e.g. {string.Join(", ", wrongCopies.Take(5).Select(e => $"{e.Key}×{e.Value}"))})");
            return v;
        }
    }

    public override string ToString() =>
        $"orders accepted {OrdersAccepted}, stored {OrdersStored}; responses received {OutboundReceived} (outbox {OutboxRows}; " +
        $"copies {Copies} of {CopiedMessageIds.Count} ids); " +
        $"inbound ready {InboundReady}, " +
        $"unacked {InboundUnacknowledged}; dead letters {DeadLetters}; error queue {ErrorQueueCopies.Count} ids" +
        (Violations.Count == 0 ? "; all invariants hold" : "; VIOLATED: " + string.Join("; ", Violations));
}

/// <summary>
/// Checks a run from the broker's and the database's own view, not O2X's counters: orders in the journal
/// (<c>ord.received.v1</c> events, by correlation id), messages on the broker's response and error queues (drained,
/// by AMQP message id), the inbound queue's depth (management API), the outbox and dead-letter tables.
/// </summary>
/// <remarks>
/// The outbound guarantee it enforces (README, "Delivery guarantees"), the same under every fault: every outbox message
/// arrives at least once; a message id that arrives again carries the identical message (a copy, counted in
/// <see cref="InvariantReport.Copies"/>); never two different messages under one id; the first arrivals on a
/// destination are in outbox order.
/// </remarks>
public sealed class InvariantChecker(string postgres, IChaosBroker broker)
{
    public InvariantChecker(string postgres, Uri amqp, RabbitMqManagement management) : this(postgres, new RabbitMqChaosBroker(amqp, management)) { }

    public async Task<InvariantReport> CheckAsync(IReadOnlyCollection<string> acceptedCorrelationIds, string inboundQueue, string responseQueue,
        IReadOnlyCollection<string>? refusedMessageIds = null, string? errorQueue = null)
    {
        await using var db = new NpgsqlConnection(postgres);
        await db.OpenAsync();
        var stored = new Dictionary<string, List<string>>();
        await using (var command = new NpgsqlCommand("SELECT persistence_id, message FROM journal WHERE manifest = 'ord.received.v1' AND deleted = false", db))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var correlation = JsonNode.Parse((byte[])reader[1])!["details"]!["correlationId"]!.GetValue<string>();
                if (!stored.TryGetValue(correlation, out var ids)) stored[correlation] = ids = [];
                ids.Add(reader.GetString(0));
            }
        }

        var outboxPositions = new Dictionary<string, long>();
        await using (var command = new NpgsqlCommand("SELECT message_id, position FROM o2x_outbox WHERE destination = 'OMS_RESPONSE'", db))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) outboxPositions[reader.GetString(0)] = reader.GetInt64(1);
        var outboxIds = outboxPositions.Keys.ToHashSet();
        var deadLetters = await ScalarAsync(db, "SELECT COUNT(*) FROM o2x_dead_letter WHERE status IN ('Dead', 'Incident')");

        var responses = await DrainAsync(responseQueue);
        var repeated = responses.GroupBy(r => r.MessageId).Where(g => g.Count() > 1).ToList();
        var copied = repeated.Where(g => g.Select(r => r.Body).Distinct().Count() == 1).Select(g => g.Key).ToList();
        var conflicting = repeated.Where(g => g.Select(r => r.Body).Distinct().Count() > 1).Select(g => g.Key).ToList();
        var delivered = responses.Select(r => r.MessageId).ToHashSet();
        var outOfOrder = new List<string>();
        long highest = 0;
        foreach (var first in responses.DistinctBy(r => r.MessageId))
        {
            if (!outboxPositions.TryGetValue(first.MessageId, out var position)) continue;
            if (position < highest) outOfOrder.Add(first.MessageId);
            highest = Math.Max(highest, position);
        }

        var received = responses.DistinctBy(r => r.MessageId).Select(r => JsonNode.Parse(r.Body)!).Where(b => (string?)b["status"] == "RECEIVED")
            .GroupBy(b => (string)b["order_id"]!).ToDictionary(g => g.Key, g => g.Count());
        var orderIds = stored.Values.SelectMany(v => v).Select(p => p["order-".Length..]).Distinct().ToList();
        var withoutOne = orderIds.Where(id => received.GetValueOrDefault(id) != 1).ToList();

        var errorCopies = new Dictionary<string, int>();
        if (refusedMessageIds is not null && errorQueue is not null)
        {
            var errors = await DrainAsync(errorQueue);
            // An error envelope (seed §5.3) names the refused message it carries.
            var byOriginal = errors.Select(e => (string?)JsonNode.Parse(e.Body)!["messageId"] ?? "?").GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
            foreach (var id in refusedMessageIds) errorCopies[id] = byOriginal.GetValueOrDefault(id);
        }

        var (ready, unacked) = await broker.QueueDepthAsync(inboundQueue);
        return new InvariantReport(acceptedCorrelationIds.Count, stored.Count,
            acceptedCorrelationIds.Where(c => !stored.ContainsKey(c)).ToList(),
            stored.Where(s => s.Value.Count > 1).Select(s => s.Key).ToList(),
            responses.Count, delivered.Count, copied, conflicting, outOfOrder, outboxIds.Where(id => !delivered.Contains(id)).ToList(), withoutOne, ready, unacked,
            outboxIds.Count, deadLetters, errorCopies);
    }

    /// <summary>Everything on a broker queue now (taken off it).</summary>
    public Task<IReadOnlyList<(string MessageId, string Body)>> DrainAsync(string queue) => broker.DrainAsync(queue);

    /// <summary>A single number from the database (counts, offsets).</summary>
    public static async Task<long> ScalarAsync(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}

/// <summary>How <see cref="InvariantChecker"/> reads a broker: with the broker's own client and API, never O2X's connectors.</summary>
public interface IChaosBroker
{
    /// <summary>Everything on the queue now, taken off it, with the producer's message id.</summary>
    Task<IReadOnlyList<(string MessageId, string Body)>> DrainAsync(string queue);

    /// <summary>Messages waiting on the queue, and delivered but not acknowledged.</summary>
    Task<(long Ready, long Unacknowledged)> QueueDepthAsync(string queue);
}

/// <summary>RabbitMQ: basic.get to drain, the management API for depths.</summary>
public sealed class RabbitMqChaosBroker(Uri amqp, RabbitMqManagement management) : IChaosBroker
{
    public async Task<IReadOnlyList<(string MessageId, string Body)>> DrainAsync(string queue)
    {
        var factory = new ConnectionFactory { Uri = amqp };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var list = new List<(string, string)>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
            list.Add((message.BasicProperties.MessageId ?? "", Encoding.UTF8.GetString(message.Body.Span)));
        return list;
    }

    public Task<(long Ready, long Unacknowledged)> QueueDepthAsync(string queue) => management.QueueDepthAsync(queue);
}

/// <summary>
/// ActiveMQ over STOMP by hand (<see cref="RawStompClient"/>): a subscription drains a queue (until it stays silent for two
/// seconds), the statistics plugin tells the depths; the message id is the producer's <c>message_id</c> header.
/// </summary>
public sealed class ActiveMqChaosBroker(int stompPort, string user, string password) : IChaosBroker
{
    public async Task<IReadOnlyList<(string MessageId, string Body)>> DrainAsync(string queue)
    {
        await using var client = await RawStompClient.ConnectAsync(stompPort, user, password);
        await client.SubscribeAsync("/queue/" + queue, ack: "auto");
        var list = new List<(string, string)>();
        while (await client.ReceiveAsync(TimeSpan.FromSeconds(2)) is { } message) list.Add((message.Headers.GetValueOrDefault("message_id") ?? "", message.Text));
        return list;
    }

    public async Task<(long Ready, long Unacknowledged)> QueueDepthAsync(string queue)
    {
        var statistics = await StatisticsAsync(queue);
        return statistics is null ? (0, 0) : (statistics.Value.Size - statistics.Value.InFlight, statistics.Value.InFlight);
    }

    /// <summary>The statistics plugin's size and in-flight count of <paramref name="queue"/>; null while the queue does not exist.</summary>
    public async Task<(long Size, long InFlight)?> StatisticsAsync(string queue)
    {
        await using var client = await RawStompClient.ConnectAsync(stompPort, user, password);
        var replyTo = "/temp-queue/chaos-" + Guid.NewGuid().ToString("N")[..8];
        await client.SubscribeAsync(replyTo, ack: "auto", headers: new Dictionary<string, string> { ["transformation"] = "jms-map-json" });
        await client.SendAsync("/queue/ActiveMQ.Statistics.Destination." + queue, "", new Dictionary<string, string> { ["reply-to"] = replyTo });
        if (await client.ReceiveAsync(TimeSpan.FromSeconds(5)) is not { } reply) return null;
        long Value(string name) => JsonNode.Parse(reply.Text)!["map"]!["entry"]!.AsArray()
            .Where(e => e!["string"] is JsonValue key && key.GetValue<string>() == name).Select(e => e!["long"]!.GetValue<long>()).FirstOrDefault();
        return (Value("size"), Value("inflightCount"));
    }
}
