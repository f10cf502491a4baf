using Confluent.Kafka;

namespace O2X.Streams.Kafka;

/// <summary>
/// How to reach a Kafka cluster: bootstrap servers, and optionally SASL credentials and TLS. Extra librdkafka
/// properties may be given as they are (<see cref="WithProperty"/>). Immutable; derive with <c>With*</c>.
/// <see cref="ToString"/> never shows the password.
/// </summary>
public sealed record KafkaConnectionSettings
{
    public KafkaConnectionSettings(string bootstrapServers)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers)) throw new ArgumentException("Kafka bootstrap servers are required.", nameof(bootstrapServers));
        BootstrapServers = bootstrapServers;
    }

    public string BootstrapServers { get; private init; }

    public string ClientId { get; private init; } = "o2x";

    /// <summary>SASL mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) or null for none.</summary>
    public string? SaslMechanism { get; private init; }

    public string? SaslUsername { get; private init; }

    public string? SaslPassword { get; private init; }

    /// <summary>TLS to the brokers (SASL_SSL / SSL).</summary>
    public bool UseTls { get; private init; }

    /// <summary>Further librdkafka properties, applied last.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; private init; } = new Dictionary<string, string>();

    public KafkaConnectionSettings WithClientId(string clientId) => this with { ClientId = clientId };

    public KafkaConnectionSettings WithSasl(string mechanism, string username, string password) =>
        this with { SaslMechanism = mechanism, SaslUsername = username, SaslPassword = password };

    public KafkaConnectionSettings WithTls(bool useTls) => this with { UseTls = useTls };

    public KafkaConnectionSettings WithProperty(string key, string value) =>
        this with { Properties = new Dictionary<string, string>(Properties) { [key] = value } };

    internal void ApplyTo(ClientConfig config)
    {
        config.BootstrapServers = BootstrapServers;
        config.ClientId = ClientId;
        if (SaslMechanism is not null)
        {
            config.SecurityProtocol = UseTls ? SecurityProtocol.SaslSsl : SecurityProtocol.SaslPlaintext;
            config.Set("sasl.mechanism", SaslMechanism);
            config.SaslUsername = SaslUsername;
            config.SaslPassword = SaslPassword;
        }
        else if (UseTls)
        {
            config.SecurityProtocol = SecurityProtocol.Ssl;
        }

        foreach (var (key, value) in Properties) config.Set(key, value);
    }

    public override string ToString() =>
        $"{BootstrapServers} (client {ClientId}{(SaslMechanism is null ? "" : $", SASL {SaslMechanism} as {SaslUsername}")}{(UseTls ? ", TLS" : "")})";
}

/// <summary>What a committable Kafka source consumes and how. Immutable; derive with <c>With*</c>.</summary>
public sealed record KafkaConsumerSettings
{
    public KafkaConsumerSettings(KafkaConnectionSettings connection, string groupId, params string[] topics)
    {
        if (string.IsNullOrWhiteSpace(groupId)) throw new ArgumentException("A consumer group id is required.", nameof(groupId));
        if (topics.Length == 0) throw new ArgumentException("At least one topic is required.", nameof(topics));
        Connection = connection;
        GroupId = groupId;
        Topics = topics;
    }

    public KafkaConnectionSettings Connection { get; private init; }

    public string GroupId { get; private init; }

    public IReadOnlyList<string> Topics { get; private init; }

    /// <summary>Records of one partition handed out and not yet settled before the partition is paused: the bound on memory.</summary>
    public int MaxInFlightPerPartition { get; private init; } = 200;

    /// <summary>Offsets are committed once this many records were settled since the last commit…</summary>
    public int CommitBatch { get; private init; } = 500;

    /// <summary>…or at the latest after this long.</summary>
    public TimeSpan CommitInterval { get; private init; } = TimeSpan.FromSeconds(1);

    /// <summary>On a rebalance, how long to wait for records of revoked partitions to be settled before committing and letting go.</summary>
    public TimeSpan RevokeDrainTimeout { get; private init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the group coordinator waits for a silent member before it takes its partitions away — and how
    /// long a rebalance may wait for members to rejoin. Shorter: faster failover; longer: fewer needless rebalances.
    /// </summary>
    public TimeSpan SessionTimeout { get; private init; } = TimeSpan.FromSeconds(45);

    /// <summary>Where a group without a committed offset starts.</summary>
    public AutoOffsetReset StartFrom { get; private init; } = AutoOffsetReset.Earliest;

    /// <summary>Reconnection backoff after a fatal consumer error (librdkafka itself reconnects to brokers).</summary>
    public Connectors.ReconnectBackoff Reconnect { get; private init; } = Connectors.ReconnectBackoff.Default;

    public KafkaConsumerSettings WithMaxInFlightPerPartition(int max) => this with { MaxInFlightPerPartition = Math.Max(1, max) };

    public KafkaConsumerSettings WithCommitBatching(int batch, TimeSpan interval) => this with { CommitBatch = Math.Max(1, batch), CommitInterval = interval };

    public KafkaConsumerSettings WithRevokeDrainTimeout(TimeSpan timeout) => this with { RevokeDrainTimeout = timeout };

    public KafkaConsumerSettings WithSessionTimeout(TimeSpan timeout) => this with { SessionTimeout = timeout };

    public KafkaConsumerSettings WithStartFrom(AutoOffsetReset startFrom) => this with { StartFrom = startFrom };

    public KafkaConsumerSettings WithReconnect(Connectors.ReconnectBackoff backoff) => this with { Reconnect = backoff };

    internal ConsumerConfig ToConfig()
    {
        var config = new ConsumerConfig
        {
            GroupId = GroupId,
            AutoOffsetReset = StartFrom,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = false,
            SessionTimeoutMs = (int)SessionTimeout.TotalMilliseconds,
            HeartbeatIntervalMs = (int)Math.Max(100, SessionTimeout.TotalMilliseconds / 10),
            // librdkafka's own prefetch queue defaults to 64 MiB per consumer; pausing bounds what we hold, this what it holds.
            QueuedMaxMessagesKbytes = 16 * 1024,
        };
        Connection.ApplyTo(config);
        return config;
    }
}

/// <summary>How a Kafka producer publishes. Immutable; derive with <c>With*</c>.</summary>
public sealed record KafkaProducerSettings
{
    public KafkaProducerSettings(KafkaConnectionSettings connection, string? defaultTopic = null)
    {
        Connection = connection;
        DefaultTopic = defaultTopic;
    }

    public KafkaConnectionSettings Connection { get; private init; }

    /// <summary>Topic for messages that name none.</summary>
    public string? DefaultTopic { get; private init; }

    /// <summary>How long librdkafka gathers records into a batch; the throughput/latency trade-off.</summary>
    public TimeSpan Linger { get; private init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>How long a record may take to be delivered, retries included, before its publish fails.</summary>
    public TimeSpan DeliveryTimeout { get; private init; } = TimeSpan.FromSeconds(30);

    public KafkaProducerSettings WithDefaultTopic(string topic) => this with { DefaultTopic = topic };

    public KafkaProducerSettings WithLinger(TimeSpan linger) => this with { Linger = linger };

    public KafkaProducerSettings WithDeliveryTimeout(TimeSpan timeout) => this with { DeliveryTimeout = timeout };

    internal ProducerConfig ToConfig()
    {
        var config = new ProducerConfig
        {
            // Durable and without duplicates from the producer's own retries.
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = Linger.TotalMilliseconds,
            MessageTimeoutMs = (int)DeliveryTimeout.TotalMilliseconds,
        };
        Connection.ApplyTo(config);
        return config;
    }
}
