using System.Text;
using System.Text.Json.Nodes;
using Amqp;
using Confluent.Kafka;
using O2X.Host.Testing;
using O2X.Testing;
using RabbitMQ.Client;

namespace O2X.IntegrationTests;

/// <summary>A message a test read from an outbound destination.</summary>
public sealed record Received(string? MessageId, string Body);

/// <summary>
/// How a test puts messages on an O2X queue and reads an outbound destination on one transport — with the
/// transport's own client, never O2X's connectors, so the node is exercised as an outside system sees it.
/// </summary>
public interface ITransportDriver : IAsyncDisposable
{
    string Name { get; }

    /// <summary>
    /// Node settings that bind <paramref name="queues"/> and <paramref name="destinations"/> to this transport, after
    /// creating on the broker whatever the node does not create itself.
    /// </summary>
    Task<IDictionary<string, string?>> NodeSettingsAsync(IReadOnlyList<string> queues, IReadOnlyList<string> destinations);

    Task SendAsync(string queue, string body, string messageId);

    /// <summary>Everything the destination received so far (for brokers: consumed and kept by the driver).</summary>
    Task<IReadOnlyList<Received>> ReadAsync(string destination);
}

/// <summary>A node whose queues and destinations are bound to one transport, with that transport's driver.</summary>
public sealed class TransportNode : IAsyncDisposable
{
    private TransportNode(ITransportDriver driver, O2XNodeFactory node)
    {
        Driver = driver;
        Node = node;
        Http = node.CreateClient();
    }

    public ITransportDriver Driver { get; }

    public O2XNodeFactory Node { get; }

    public HttpClient Http { get; }

    public static async Task<TransportNode> StartAsync(string transport, IReadOnlyList<string> queues, IReadOnlyList<string> destinations,
        string sqlitePath, IDictionary<string, string?> settings)
    {
        O2XNodeFactory? node = null;
        // The embedded driver talks to the node over HTTP: it asks for the node once the node exists.
        var driver = TransportDrivers.Create(transport, () => node!.CreateClient());
        var all = await driver.NodeSettingsAsync(queues, destinations);
        foreach (var (key, value) in settings) all[key] = value;
        node = new O2XNodeFactory(all, sqlitePath);
        var running = new TransportNode(driver, node);
        // Send only once the node's bindings are connected, i.e. its queues are declared. A producer declaring the same
        // RabbitMQ quorum queue in the same milliseconds as the node had its first publish nacked ("Message rejected by
        // broker"): RabbitMQ routed it to the queue while the other declaration was still starting the queue's process.
        await Eventually.TrueAsync(async () => (await running.Http.GetAsync("/health/ready")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(60), "the node is ready: its broker bindings are connected");
        return running;
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Driver.DisposeAsync();
    }
}

public static class TransportDrivers
{
    public static ITransportDriver Create(string transport, Func<HttpClient> http) => transport switch
    {
        "Embedded" => new EmbeddedDriver(http),
        "Amqp091" => new RabbitMqDriver(),
        "Amqp10" => new Amqp10Driver(qpid: false),
        "Amqp10Qpid" => new Amqp10Driver(qpid: true),
        "Kafka" => new KafkaDriver(),
        "Stomp" => new StompDriver(),
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, null),
    };
}

/// <summary>HTTP ingestion in, the outbox API out.</summary>
internal sealed class EmbeddedDriver(Func<HttpClient> http) : ITransportDriver
{
    public string Name => "Embedded";

    public Task<IDictionary<string, string?>> NodeSettingsAsync(IReadOnlyList<string> queues, IReadOnlyList<string> destinations) =>
        Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?>());

    public async Task SendAsync(string queue, string body, string messageId)
    {
        // Refusals answer 4xx here; the tests look at their effect (the error destination), as on a broker.
        using var response = await http().PostMessageAsync(queue, body, messageId);
        var answer = await response.Content.ReadAsStringAsync();
        // 500 DEAD_LETTERED is an outcome like the others (the message is kept); anything else 5xx is a broken node.
        if ((int)response.StatusCode >= 500 && !answer.Contains("DEAD_LETTERED", StringComparison.Ordinal))
            throw new InvalidOperationException($"POST {queue} answered {response.StatusCode}: {answer}");
    }

    public async Task<IReadOnlyList<Received>> ReadAsync(string destination)
    {
        var page = JsonNode.Parse(await http().GetStringAsync($"/api/outbox/{destination}?limit=1000"))!;
        return page["items"]!.AsArray().Select(i => new Received(i!["message_id"]!.GetValue<string>(), i["payload"]!.ToJsonString())).ToList();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>RabbitMQ.Client directly: basic.publish with a message id, basic.get to read.</summary>
internal sealed class RabbitMqDriver : ITransportDriver
{
    private readonly string _prefix = "it-" + Guid.NewGuid().ToString("N")[..8] + "-";
    private readonly List<string> _declared = [];
    private readonly Dictionary<string, List<Received>> _received = [];
    private RabbitMQ.Client.IConnection? _connection;
    private IChannel? _channel;

    public string Name => "Amqp091";

    private string Address(string name) => _prefix + name;

    public Task<IDictionary<string, string?>> NodeSettingsAsync(IReadOnlyList<string> queues, IReadOnlyList<string> destinations)
    {
        var settings = new Dictionary<string, string?> { ["O2X:Transports:RabbitMq:Uri"] = TestServices.RabbitMqUri.ToString() };
        foreach (var queue in queues)
        {
            settings[$"O2X:Bindings:{queue}:Transport"] = "Amqp091";
            settings[$"O2X:Bindings:{queue}:Address"] = Address(queue);
        }

        foreach (var destination in destinations)
        {
            settings[$"O2X:Destinations:{destination}:Transport"] = "Amqp091";
            settings[$"O2X:Destinations:{destination}:Address"] = Address(destination);
        }

        return Task.FromResult<IDictionary<string, string?>>(settings);
    }

    private async Task<IChannel> ChannelAsync()
    {
        _connection ??= await new RabbitMQ.Client.ConnectionFactory { Uri = TestServices.RabbitMqUri }.CreateConnectionAsync();
        return _channel ??= await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
    }

    private async Task DeclareAsync(IChannel channel, string name)
    {
        if (_declared.Contains(name)) return;
        // The same declaration as the node's (durable quorum queue), so whoever comes first creates it.
        await channel.QueueDeclareAsync(Address(name), durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        _declared.Add(name);
    }

    public async Task SendAsync(string queue, string body, string messageId)
    {
        var channel = await ChannelAsync();
        await DeclareAsync(channel, queue);
        await channel.BasicPublishAsync("", Address(queue), mandatory: true,
            new BasicProperties { MessageId = messageId, ContentType = "application/json", Persistent = true }, Encoding.UTF8.GetBytes(body));
    }

    public async Task<IReadOnlyList<Received>> ReadAsync(string destination)
    {
        var channel = await ChannelAsync();
        await DeclareAsync(channel, destination);
        if (!_received.TryGetValue(destination, out var list)) _received[destination] = list = [];
        while (await channel.BasicGetAsync(Address(destination), autoAck: true) is { } message)
            list.Add(new Received(message.BasicProperties.MessageId, Encoding.UTF8.GetString(message.Body.Span)));
        return list.ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            foreach (var name in _declared) await _channel.QueueDeleteAsync(Address(name));
            await _channel.CloseAsync();
        }

        if (_connection is not null) await _connection.CloseAsync();
    }
}

/// <summary>
/// AMQPNetLite directly against RabbitMQ's AMQP 1.0 plugin (queues declared over 0-9-1 first: RabbitMQ needs them to exist), or
/// against Qpid Proton's example broker (<paramref name="qpid"/>: bare addresses, created on first use, no SASL).
/// </summary>
internal sealed class Amqp10Driver(bool qpid) : ITransportDriver
{
    private Uri BrokerUri => qpid ? TestServices.QpidAmqp10Uri : TestServices.RabbitMqAmqp10Uri;

    private string Address(string name) => (qpid ? "" : "/amq/queue/") + Queue(name);

    private readonly string _prefix = "it10-" + Guid.NewGuid().ToString("N")[..8] + "-";
    private readonly Dictionary<string, List<Received>> _received = [];
    private readonly Dictionary<string, ReceiverLink> _receivers = [];
    private readonly Dictionary<string, SenderLink> _senders = [];
    private readonly List<string> _queues = [];
    private Connection? _connection;
    private Session? _session;

    public string Name => qpid ? "Amqp10Qpid" : "Amqp10";

    private string Queue(string name) => _prefix + name;

    public async Task<IDictionary<string, string?>> NodeSettingsAsync(IReadOnlyList<string> queues, IReadOnlyList<string> destinations)
    {
        if (!qpid) await DeclareAsync(queues.Concat(destinations));
        var settings = new Dictionary<string, string?>
        {
            ["O2X:Transports:Amqp10:Uri"] = BrokerUri.ToString(),
            // The broker's address form; the queue names below go through it.
            ["O2X:Transports:Amqp10:AddressTemplate"] = (qpid ? "" : "/amq/queue/") + _prefix + "{queue}",
        };
        foreach (var queue in queues) settings[$"O2X:Bindings:{queue}:Transport"] = "Amqp10";
        foreach (var destination in destinations) settings[$"O2X:Destinations:{destination}:Transport"] = "Amqp10";
        return settings;
    }

    /// <summary>RabbitMQ's AMQP 1.0 plugin addresses existing queues only: declare them all before the node starts.</summary>
    private async Task DeclareAsync(IEnumerable<string> names)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = TestServices.RabbitMqUri };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var name in names)
        {
            await channel.QueueDeclareAsync(Queue(name), durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
            _queues.Add(Queue(name));
        }
    }

    private async Task<Session> SessionAsync()
    {
        _connection ??= await Connection.Factory.CreateAsync(new Amqp.Address(BrokerUri.ToString()));
        return _session ??= new Session(_connection);
    }

    public async Task SendAsync(string queue, string body, string messageId)
    {
        var session = await SessionAsync();
        if (!_senders.TryGetValue(queue, out var sender))
            _senders[queue] = sender = new SenderLink(session, "it-sender-" + queue, Address(queue));
        var message = new Message(Encoding.UTF8.GetBytes(body))
        {
            Properties = new Amqp.Framing.Properties { MessageId = messageId, ContentType = "application/json" },
            Header = new Amqp.Framing.Header { Durable = true },
        };
        await sender.SendAsync(message); // completes on the accepted outcome
    }

    public async Task<IReadOnlyList<Received>> ReadAsync(string destination)
    {
        var session = await SessionAsync();
        if (!_receivers.TryGetValue(destination, out var receiver))
            _receivers[destination] = receiver = new ReceiverLink(session, "it-receiver-" + destination, Address(destination));
        if (!_received.TryGetValue(destination, out var list)) _received[destination] = list = [];
        while (await receiver.ReceiveAsync(TimeSpan.FromMilliseconds(100)) is { } message)
        {
            receiver.Accept(message);
            var body = message.Body switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                var other => other?.ToString() ?? "",
            };
            list.Add(new Received(message.Properties?.MessageId, body));
        }

        return list.ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.CloseAsync();
        if (qpid) return; // in memory: its queues go with their consumers
        await using var management = new ManagementCleanup();
        foreach (var queue in _queues) await management.DeleteAsync(queue);
    }

    private sealed class ManagementCleanup : IAsyncDisposable
    {
        private readonly RabbitMqManagement _management = RabbitMqManagement.Shared();

        public Task DeleteAsync(string queue) => _management.DeleteQueueAsync(queue);

        public ValueTask DisposeAsync()
        {
            _management.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// ActiveMQ over STOMP, spoken by hand on a plain socket (<see cref="RawStompClient"/>: no O2X code) to the ActiveMQ of
/// ./test.sh; the node itself connects over STOMP+TLS, validating the broker's certificate against its CA.
/// </summary>
internal sealed class StompDriver : ITransportDriver
{
    private readonly string _prefix = "itst-" + Guid.NewGuid().ToString("N")[..8] + "-";
    private readonly Dictionary<string, RawStompClient> _readers = [];
    private readonly Dictionary<string, List<Received>> _received = [];
    private RawStompClient? _sender;

    public string Name => "Stomp";

    private static int Port(string uri) => int.Parse(uri[(uri.LastIndexOf(':') + 1)..]);

    public Task<IDictionary<string, string?>> NodeSettingsAsync(IReadOnlyList<string> queues, IReadOnlyList<string> destinations)
    {
        var settings = new Dictionary<string, string?>
        {
            ["O2X:Transports:Stomp:Address"] = $"failover:({TestServices.ActiveMqStompSsl})",
            ["O2X:Transports:Stomp:Username"] = TestServices.ActiveMqUser,
            ["O2X:Transports:Stomp:Password"] = TestServices.ActiveMqPassword,
            ["O2X:Transports:Stomp:CaCertificate"] = TestServices.ActiveMqCa,
            ["O2X:Transports:Stomp:DestinationTemplate"] = "/queue/" + _prefix + "{queue}",
        };
        // By the broker's name, as an operator migrating from the seed's system would write it.
        foreach (var queue in queues) settings[$"O2X:Bindings:{queue}:Transport"] = "ActiveMq";
        foreach (var destination in destinations) settings[$"O2X:Destinations:{destination}:Transport"] = "Stomp";
        return Task.FromResult<IDictionary<string, string?>>(settings);
    }

    private static Task<RawStompClient> ConnectAsync() =>
        RawStompClient.ConnectAsync(Port(TestServices.ActiveMqStomp), TestServices.ActiveMqUser, TestServices.ActiveMqPassword);

    public async Task SendAsync(string queue, string body, string messageId)
    {
        _sender ??= await ConnectAsync();
        await _sender.SendAsync("/queue/" + _prefix + queue, body, new Dictionary<string, string> { ["message_id"] = messageId, ["persistent"] = "true" });
    }

    public async Task<IReadOnlyList<Received>> ReadAsync(string destination)
    {
        if (!_readers.TryGetValue(destination, out var reader))
        {
            _readers[destination] = reader = await ConnectAsync();
            await reader.SubscribeAsync("/queue/" + _prefix + destination, ack: "auto");
        }

        if (!_received.TryGetValue(destination, out var list)) _received[destination] = list = [];
        while (await reader.ReceiveAsync(TimeSpan.FromMilliseconds(200)) is { } message)
            list.Add(new Received(message.Headers.GetValueOrDefault("message_id"), message.Text));
        return list.ToList();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var reader in _readers.Values) await reader.DisposeAsync();
        if (_sender is not null) await _sender.DisposeAsync();
    }
}

/// <summary>Confluent.Kafka directly against librdkafka's mock cluster.</summary>
internal sealed class KafkaDriver : ITransportDriver
{
    private readonly KafkaMockCluster _cluster = new(brokers: 1);
    private readonly string _prefix = "it-" + Guid.NewGuid().ToString("N")[..8] + "-";
    private readonly Dictionary<string, IConsumer<string?, byte[]>> _consumers = [];
    private readonly Dictionary<string, List<Received>> _received = [];
    private IProducer<string?, byte[]>? _producer;

    public string Name => "Kafka";

    private string Topic(string name) => _prefix + name;

    public Task<IDictionary<string, string?>> NodeSettingsAsync(IReadOnlyList<string> queues, IReadOnlyList<string> destinations)
    {
        var settings = new Dictionary<string, string?>
        {
            ["O2X:Transports:Kafka:BootstrapServers"] = _cluster.BootstrapServers,
            ["O2X:Transports:Kafka:SessionTimeout"] = "00:00:06",
        };
        foreach (var queue in queues)
        {
            _cluster.CreateTopic(Topic(queue), partitions: 2);
            settings[$"O2X:Bindings:{queue}:Transport"] = "Kafka";
            settings[$"O2X:Bindings:{queue}:Address"] = Topic(queue);
        }

        foreach (var destination in destinations)
        {
            _cluster.CreateTopic(Topic(destination), partitions: 2);
            settings[$"O2X:Destinations:{destination}:Transport"] = "Kafka";
            settings[$"O2X:Destinations:{destination}:Address"] = Topic(destination);
        }

        return Task.FromResult<IDictionary<string, string?>>(settings);
    }

    public async Task SendAsync(string queue, string body, string messageId)
    {
        _producer ??= new ProducerBuilder<string?, byte[]>(new ProducerConfig { BootstrapServers = _cluster.BootstrapServers, Acks = Acks.All }).Build();
        var headers = new Confluent.Kafka.Headers { { "message_id", Encoding.UTF8.GetBytes(messageId) } };
        await _producer.ProduceAsync(Topic(queue), new Message<string?, byte[]> { Key = messageId, Value = Encoding.UTF8.GetBytes(body), Headers = headers });
    }

    public Task<IReadOnlyList<Received>> ReadAsync(string destination)
    {
        if (!_consumers.TryGetValue(destination, out var consumer))
        {
            consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
            {
                BootstrapServers = _cluster.BootstrapServers,
                GroupId = "it-reader-" + Guid.NewGuid().ToString("N")[..6],
                AutoOffsetReset = AutoOffsetReset.Earliest,
                SessionTimeoutMs = 6000,
            }).Build();
            consumer.Subscribe(Topic(destination));
            _consumers[destination] = consumer;
        }

        if (!_received.TryGetValue(destination, out var list)) _received[destination] = list = [];
        while (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
        {
            var id = result.Message.Headers.TryGetLastBytes("message_id", out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
            list.Add(new Received(id, Encoding.UTF8.GetString(result.Message.Value)));
        }

        return Task.FromResult<IReadOnlyList<Received>>(list.ToList());
    }

    public ValueTask DisposeAsync()
    {
        foreach (var consumer in _consumers.Values)
        {
            consumer.Close();
            consumer.Dispose();
        }

        _producer?.Dispose();
        _cluster.Dispose();
        return ValueTask.CompletedTask;
    }
}
