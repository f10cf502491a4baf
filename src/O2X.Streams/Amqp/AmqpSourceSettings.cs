namespace O2X.Streams.Amqp;

/// <summary>What a committable AMQP source consumes and how. Immutable; derive with <c>With*</c>.</summary>
public sealed record AmqpSourceSettings
{
    public AmqpSourceSettings(AmqpConnectionSettings connection, string queue)
    {
        Connection = connection;
        Queue = queue;
    }

    public AmqpConnectionSettings Connection { get; private init; }

    public string Queue { get; private init; }

    /// <summary>Unacknowledged messages the broker may hand out at once (basic.qos): the bound on memory.</summary>
    public ushort Prefetch { get; private init; } = 100;

    /// <summary>Declared on every (re)connection before consuming.</summary>
    public AmqpTopology Topology { get; private init; } = AmqpTopology.None;

    /// <summary>Acknowledgements are sent as one multiple-ack once this many contiguous deliveries are done…</summary>
    public int AckBatch { get; private init; } = 32;

    /// <summary>…or at the latest after this long.</summary>
    public TimeSpan AckInterval { get; private init; } = TimeSpan.FromMilliseconds(5);

    public AmqpSourceSettings WithPrefetch(ushort prefetch) => this with { Prefetch = prefetch };

    public AmqpSourceSettings WithTopology(AmqpTopology topology) => this with { Topology = topology };

    public AmqpSourceSettings WithAckBatching(int batch, TimeSpan interval) => this with { AckBatch = Math.Max(1, batch), AckInterval = interval };
}
