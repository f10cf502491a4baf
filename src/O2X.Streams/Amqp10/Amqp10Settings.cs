namespace O2X.Streams.Amqp10;

/// <summary>What an AMQP 1.0 source consumes. Immutable; derive with <c>With*</c>.</summary>
public sealed record Amqp10SourceSettings
{
    public Amqp10SourceSettings(Amqp10ConnectionSettings connection, string address)
    {
        Connection = connection;
        Address = address;
    }

    public Amqp10ConnectionSettings Connection { get; private init; }

    /// <summary>Broker-specific address, e.g. <c>/amq/queue/OMS</c> (RabbitMQ) or <c>queue://OMS</c> (ActiveMQ).</summary>
    public string Address { get; private init; }

    /// <summary>Link credit: messages the broker may send before they are settled — the bound on memory.</summary>
    public int Credit { get; private init; } = 100;

    public Amqp10SourceSettings WithCredit(int credit) => this with { Credit = Math.Max(1, credit) };
}

/// <summary>Where an AMQP 1.0 publisher sends. Immutable; derive with <c>With*</c>.</summary>
public sealed record Amqp10PublishSettings
{
    public Amqp10PublishSettings(Amqp10ConnectionSettings connection, string address)
    {
        Connection = connection;
        Address = address;
    }

    public Amqp10ConnectionSettings Connection { get; private init; }

    public string Address { get; private init; }

    public bool Durable { get; private init; } = true;

    public Amqp10PublishSettings WithDurable(bool durable) => this with { Durable = durable };
}
