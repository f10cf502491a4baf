namespace O2X.Streams.Amqp;

/// <summary>Where and how an AMQP publisher publishes. Immutable; derive with <c>With*</c>.</summary>
public sealed record AmqpPublishSettings
{
    public AmqpPublishSettings(AmqpConnectionSettings connection) => Connection = connection;

    public AmqpConnectionSettings Connection { get; private init; }

    /// <summary>Exchange to publish to; empty: the default exchange (routing key = queue name).</summary>
    public string Exchange { get; private init; } = "";

    /// <summary>Routing key when a message does not name one.</summary>
    public string? RoutingKey { get; private init; }

    /// <summary>Publishes awaiting their confirm at once: the broker confirms them in batches.</summary>
    public int MaxOutstandingConfirms { get; private init; } = 256;

    /// <summary>Persistent messages survive a broker restart.</summary>
    public bool Persistent { get; private init; } = true;

    public AmqpTopology Topology { get; private init; } = AmqpTopology.None;

    public AmqpPublishSettings WithExchange(string exchange) => this with { Exchange = exchange };

    public AmqpPublishSettings WithRoutingKey(string routingKey) => this with { RoutingKey = routingKey };

    public AmqpPublishSettings WithMaxOutstandingConfirms(int count) => this with { MaxOutstandingConfirms = Math.Max(1, count) };

    public AmqpPublishSettings WithPersistent(bool persistent) => this with { Persistent = persistent };

    public AmqpPublishSettings WithTopology(AmqpTopology topology) => this with { Topology = topology };
}
