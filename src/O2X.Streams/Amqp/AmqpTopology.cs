using RabbitMQ.Client;

namespace O2X.Streams.Amqp;

public enum AmqpQueueType { Classic, Quorum }

/// <summary>
/// What a source or publisher declares before it starts (idempotent AMQP declarations): a durable queue
/// (classic or quorum, optionally with a dead-letter exchange), optionally an exchange and a binding.
/// </summary>
public sealed record AmqpTopology
{
    public static readonly AmqpTopology None = new();

    public string? Queue { get; init; }

    public AmqpQueueType QueueType { get; init; } = AmqpQueueType.Quorum;

    /// <summary>Where the broker sends messages rejected without requeue (<c>x-dead-letter-exchange</c>).</summary>
    public string? DeadLetterExchange { get; init; }

    public string? DeadLetterRoutingKey { get; init; }

    public string? Exchange { get; init; }

    public string ExchangeType { get; init; } = "direct";

    /// <summary>Routing key binding <see cref="Queue"/> to <see cref="Exchange"/> (default: the queue name).</summary>
    public string? BindingKey { get; init; }

    public static AmqpTopology ForQueue(string queue, AmqpQueueType type = AmqpQueueType.Quorum) => new() { Queue = queue, QueueType = type };

    public AmqpTopology WithDeadLetterExchange(string exchange, string? routingKey = null) =>
        this with { DeadLetterExchange = exchange, DeadLetterRoutingKey = routingKey };

    public AmqpTopology WithExchange(string exchange, string type = "direct", string? bindingKey = null) =>
        this with { Exchange = exchange, ExchangeType = type, BindingKey = bindingKey };

    internal async Task DeclareAsync(IChannel channel, CancellationToken ct)
    {
        if (Exchange is not null)
            await channel.ExchangeDeclareAsync(Exchange, ExchangeType, durable: true, autoDelete: false, arguments: null, cancellationToken: ct);
        if (Queue is null) return;
        var arguments = new Dictionary<string, object?>();
        if (QueueType == AmqpQueueType.Quorum) arguments["x-queue-type"] = "quorum";
        if (DeadLetterExchange is not null) arguments["x-dead-letter-exchange"] = DeadLetterExchange;
        if (DeadLetterRoutingKey is not null) arguments["x-dead-letter-routing-key"] = DeadLetterRoutingKey;
        await channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: ct);
        if (Exchange is not null)
            await channel.QueueBindAsync(Queue, Exchange, BindingKey ?? Queue, arguments: null, cancellationToken: ct);
    }
}
