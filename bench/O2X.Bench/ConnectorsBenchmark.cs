using System.CommandLine;
using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Amqp;
using Confluent.Kafka;
using O2X.Streams.Amqp;
using O2X.Streams.Amqp10;
using O2X.Streams.Dsl;
using O2X.Streams.Kafka;
using O2X.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace O2X.Bench;

/// <summary>
/// Consume+ack and publish-with-confirmation msg/s of each connector, each beside the raw client loop on the
/// same broker in the same run: RabbitMQ.Client, AMQPNetLite and Confluent.Kafka used directly, as a competent
/// user would (the same prefetch / credit, the same window of unconfirmed publishes, the same durability).
/// </summary>
internal static class ConnectorsBenchmark
{
    private const int Window = 256;
    private const int Prefetch = 100;
    private const int Rounds = 3;

    private static TimeSpan Median(List<TimeSpan> values) => values.Order().ElementAt(values.Count / 2);

    public static Command Command()
    {
        var transport = new Option<string>("--transport") { Description = "amqp091, amqp10, kafka or stomp", DefaultValueFactory = _ => "amqp091" };
        transport.AcceptOnlyFromAmong("amqp091", "amqp10", "kafka", "stomp");
        var messages = new Option<int>("--messages") { Description = "messages per measurement", DefaultValueFactory = _ => 20_000 };
        var size = new Option<int>("--size") { Description = "body bytes", DefaultValueFactory = _ => 1024 };
        var command = new Command("connectors", "Connector consume+ack and publish-with-confirm throughput beside the raw client loop") { transport, messages, size };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(transport)!, parse.GetValue(messages), parse.GetValue(size)));
        return command;
    }

    private static async Task<int> RunAsync(string transport, int messages, int size)
    {
        var body = new byte[size];
        Random.Shared.NextBytes(body);
        using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
        var materializer = system.Materializer();
        var bench = Create(transport);
        await using (bench)
        {
            // Warm-up of both paths (JIT, connections), then each pair measured on fresh queues.
            await bench.RawPublishAsync("warm-raw", Same(body, Math.Min(2_000, messages)));
            await bench.ConnectorConsumeAsync("warm-raw", Math.Min(2_000, messages), materializer);
            await bench.ConnectorPublishAsync("warm-conn", Math.Min(2_000, messages), body, materializer);
            await bench.RawConsumeAsync("warm-conn", Math.Min(2_000, messages));

            // Three rounds, raw and connector alternating which goes first; the median of each is reported
            // (single runs vary by ±30% on this shared 2-core machine).
            var times = new Dictionary<string, List<TimeSpan>> { ["rp"] = [], ["cc"] = [], ["cp"] = [], ["rc"] = [] };
            for (var round = 0; round < Rounds; round++)
            {
                var q = "r" + round;
                if (round % 2 == 0)
                {
                    times["rp"].Add(await Time(() => bench.RawPublishAsync(q + "a", Same(body, messages))));
                    times["cc"].Add(await Time(() => bench.ConnectorConsumeAsync(q + "a", messages, materializer)));
                    times["cp"].Add(await Time(() => bench.ConnectorPublishAsync(q + "b", messages, body, materializer)));
                    times["rc"].Add(await Time(() => bench.RawConsumeAsync(q + "b", messages)));
                }
                else
                {
                    times["cp"].Add(await Time(() => bench.ConnectorPublishAsync(q + "a", messages, body, materializer)));
                    times["rc"].Add(await Time(() => bench.RawConsumeAsync(q + "a", messages)));
                    times["rp"].Add(await Time(() => bench.RawPublishAsync(q + "b", Same(body, messages))));
                    times["cc"].Add(await Time(() => bench.ConnectorConsumeAsync(q + "b", messages, materializer)));
                }
            }

            Row(transport, "publish with confirmation", messages, size, Median(times["cp"]), Median(times["rp"]));
            Row(transport, "consume + ack", messages, size, Median(times["cc"]), Median(times["rc"]));
        }

        return 0;
    }

    private static byte[][] Same(byte[] body, int count) => Enumerable.Repeat(body, count).ToArray();

    private static void Row(string transport, string what, int messages, int size, TimeSpan connector, TimeSpan raw)
    {
        var c = messages / connector.TotalSeconds;
        var r = messages / raw.TotalSeconds;
        Console.WriteLine($"| {transport} | {what} | {messages:N0} × {size} B | {c:N0} | {r:N0} | {c / r:0.00} |");
    }

    private static async Task<TimeSpan> Time(Func<Task> run)
    {
        var clock = Stopwatch.StartNew();
        await run();
        return clock.Elapsed;
    }

    internal static IBenchTransport Create(string transport) => transport switch
    {
        "amqp091" => new RabbitMqBench(),
        "amqp10" => new Amqp10Bench(),
        "stomp" => new StompBench(),
        _ => new KafkaBench(),
    };

    internal interface IBenchTransport : IAsyncDisposable
    {
        /// <summary>Publishes these bodies (message ids / keys from <paramref name="firstId"/> on) with confirmation.</summary>
        Task RawPublishAsync(string queue, IReadOnlyList<byte[]> bodies, int firstId = 0);

        /// <summary>The node's settings binding <paramref name="binding"/> to <paramref name="queue"/> on this transport.</summary>
        Dictionary<string, string?> NodeSettings(string binding, string queue);

        /// <summary>Consumes and acknowledges <paramref name="count"/> messages; returns the time from the first message to the last ack.</summary>
        Task<TimeSpan> RawConsumeAsync(string queue, int count);

        Task ConnectorPublishAsync(string queue, int count, byte[] body, IMaterializer materializer);

        Task ConnectorConsumeAsync(string queue, int count, IMaterializer materializer);
    }

    /// <summary>Acknowledges each element through its handle, as a binding does once the effect is durable.</summary>
    private static Task Commit<T>(Source<O2X.Streams.Connectors.Committable<T>, O2X.Streams.Connectors.IConsumerControl> source, int count, IMaterializer materializer)
    {
        var (control, done) = source
            .SelectAsync(Prefetch, async c =>
            {
                await c.Handle.CommitAsync();
                return NotUsed.Instance;
            })
            .Take(count)
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(materializer);
        return done.ContinueWith(_ => control.StopAsync()).Unwrap();
    }

    private sealed class RabbitMqBench : IBenchTransport
    {
        private readonly string _prefix = "bench-" + Guid.NewGuid().ToString("N")[..6] + "-";
        private readonly AmqpConnectionSettings _connection = new(TestServices.RabbitMqUri);
        private readonly List<string> _queues = [];
        private RabbitMQ.Client.IConnection? _raw;

        private string Name(string queue) => _prefix + queue;

        private async Task<RabbitMQ.Client.IConnection> RawAsync() => _raw ??= await new RabbitMQ.Client.ConnectionFactory { Uri = TestServices.RabbitMqUri }.CreateConnectionAsync();

        private async Task DeclareAsync(string queue)
        {
            if (_queues.Contains(queue)) return;
            await using var channel = await (await RawAsync()).CreateChannelAsync();
            await channel.QueueDeclareAsync(Name(queue), true, false, false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
            _queues.Add(queue);
        }

        public Dictionary<string, string?> NodeSettings(string binding, string queue) => new()
        {
            ["O2X:Transports:RabbitMq:Uri"] = TestServices.RabbitMqUri.ToString(),
            [$"O2X:Bindings:{binding}:Transport"] = "Amqp091",
            [$"O2X:Bindings:{binding}:Address"] = Name(queue),
        };

        public async Task RawPublishAsync(string queue, IReadOnlyList<byte[]> bodies, int firstId = 0)
        {
            await DeclareAsync(queue);
            await using var channel = await (await RawAsync()).CreateChannelAsync(new CreateChannelOptions(true, true));
            var window = new Queue<Task>();
            for (var i = 0; i < bodies.Count; i++)
            {
                var properties = new BasicProperties { Persistent = true, ContentType = "application/json", MessageId = "bench-" + (firstId + i) };
                window.Enqueue(channel.BasicPublishAsync("", Name(queue), false, properties, bodies[i]).AsTask());
                if (window.Count >= Window) await window.Dequeue();
            }

            await Task.WhenAll(window);
        }

        public async Task<TimeSpan> RawConsumeAsync(string queue, int count) => await RawRabbitMq.ConsumeAsync(await RawAsync(), Name(queue), count, Prefetch);

        public async Task ConnectorPublishAsync(string queue, int count, byte[] body, IMaterializer materializer)
        {
            await DeclareAsync(queue);
            await using var publisher = new AmqpPublisher(new AmqpPublishSettings(_connection).WithRoutingKey(Name(queue)).WithMaxOutstandingConfirms(Window));
            await Source.From(Enumerable.Range(0, count))
                .Select(i => new AmqpMessage(body, i.ToString(), ContentType: "application/octet-stream"))
                .RunWith(AmqpFlow.Publish(publisher, Window), materializer);
        }

        public Task ConnectorConsumeAsync(string queue, int count, IMaterializer materializer) =>
            Commit(AmqpSource.Committable(new AmqpSourceSettings(_connection, Name(queue)).WithPrefetch(Prefetch)), count, materializer);

        public async ValueTask DisposeAsync()
        {
            if (_raw is null) return;
            await using (var channel = await _raw.CreateChannelAsync())
                foreach (var queue in _queues) await channel.QueueDeleteAsync(Name(queue));
            await _raw.CloseAsync();
        }
    }

    private sealed class Amqp10Bench : IBenchTransport
    {
        private readonly string _prefix = "bench10-" + Guid.NewGuid().ToString("N")[..6] + "-";
        private readonly Amqp10ConnectionSettings _connection = new(TestServices.RabbitMqAmqp10Uri);
        private readonly List<string> _declared = [];
        private Connection? _raw;

        private string Address(string queue) => "/amq/queue/" + _prefix + queue;

        /// <summary>RabbitMQ's AMQP 1.0 plugin needs the queue to exist.</summary>
        private async Task DeclareAsync(string queue)
        {
            if (_declared.Contains(queue)) return;
            var factory = new RabbitMQ.Client.ConnectionFactory { Uri = TestServices.RabbitMqUri };
            await using var connection = await factory.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeclareAsync(_prefix + queue, true, false, false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
            _declared.Add(queue);
        }

        private async Task<Connection> RawAsync() => _raw ??= await Connection.Factory.CreateAsync(new Amqp.Address(TestServices.RabbitMqAmqp10Uri.ToString()));

        public Dictionary<string, string?> NodeSettings(string binding, string queue) => new()
        {
            ["O2X:Transports:Amqp10:Uri"] = TestServices.RabbitMqAmqp10Uri.ToString(),
            [$"O2X:Bindings:{binding}:Transport"] = "Amqp10",
            [$"O2X:Bindings:{binding}:Address"] = Address(queue),
        };

        public async Task RawPublishAsync(string queue, IReadOnlyList<byte[]> bodies, int firstId = 0)
        {
            await DeclareAsync(queue);
            var session = new Session(await RawAsync());
            var sender = new SenderLink(session, "raw-" + queue + "-" + firstId, Address(queue));
            var window = new Queue<Task>();
            for (var i = 0; i < bodies.Count; i++)
            {
                var message = new Message(bodies[i])
                {
                    Properties = new Amqp.Framing.Properties { MessageId = "bench-" + (firstId + i) },
                    Header = new Amqp.Framing.Header { Durable = true },
                };
                window.Enqueue(sender.SendAsync(message));
                if (window.Count >= Window) await window.Dequeue();
            }

            await Task.WhenAll(window);
            await sender.CloseAsync();
            await session.CloseAsync();
        }

        public async Task<TimeSpan> RawConsumeAsync(string queue, int count)
        {
            var session = new Session(await RawAsync());
            var receiver = new ReceiverLink(session, "raw-" + queue, Address(queue));
            receiver.SetCredit(Prefetch, autoRestore: true);
            Stopwatch? clock = null;
            for (var received = 0; received < count;)
            {
                if (await receiver.ReceiveAsync(TimeSpan.FromSeconds(30)) is not { } message) throw new TimeoutException($"{received} of {count} received");
                clock ??= Stopwatch.StartNew();
                receiver.Accept(message);
                received++;
            }

            var elapsed = clock?.Elapsed ?? TimeSpan.Zero;
            await receiver.CloseAsync();
            await session.CloseAsync();
            return elapsed;
        }

        public async Task ConnectorPublishAsync(string queue, int count, byte[] body, IMaterializer materializer)
        {
            await DeclareAsync(queue);
            await using var publisher = new Amqp10Publisher(new Amqp10PublishSettings(_connection, Address(queue)));
            await Source.From(Enumerable.Range(0, count))
                .Select(i => new Amqp10Message(body, i.ToString()))
                .Via(Amqp10Flow.PublishWithOutcome(publisher, Window))
                .RunWith(Sink.Ignore<Amqp10Message>(), materializer);
        }

        public Task ConnectorConsumeAsync(string queue, int count, IMaterializer materializer) =>
            Commit(Amqp10Source.Committable(new Amqp10SourceSettings(_connection, Address(queue)).WithCredit(Prefetch)), count, materializer);

        public async ValueTask DisposeAsync()
        {
            if (_raw is not null) await _raw.CloseAsync();
            using var management = RabbitMqManagement.Shared();
            foreach (var queue in _declared) await management.DeleteQueueAsync(_prefix + queue);
        }
    }

    /// <summary>
    /// ActiveMQ over STOMP (the ActiveMQ of scripts/services.sh). The raw loop is STOMP spoken by hand on a plain socket
    /// (<see cref="RawStompClient"/>): no streams, no reconnection, the same window of receipts in flight, the same prefetch,
    /// acknowledgements flushed whenever it would wait for the broker.
    /// </summary>
    private sealed class StompBench : IBenchTransport
    {
        private readonly string _prefix = "bench-" + Guid.NewGuid().ToString("N")[..6] + "-";
        private readonly O2X.Streams.Stomp.StompConnectionSettings _connection = ActiveMqBroker.SharedSettings();

        private string Destination(string queue) => "/queue/" + _prefix + queue;

        private static int Port => int.Parse(TestServices.ActiveMqStomp[(TestServices.ActiveMqStomp.LastIndexOf(':') + 1)..]);

        private static Task<RawStompClient> RawAsync() => RawStompClient.ConnectAsync(Port, TestServices.ActiveMqUser, TestServices.ActiveMqPassword);

        public Dictionary<string, string?> NodeSettings(string binding, string queue) => new()
        {
            ["O2X:Transports:Stomp:Address"] = TestServices.ActiveMqStomp,
            ["O2X:Transports:Stomp:Username"] = TestServices.ActiveMqUser,
            ["O2X:Transports:Stomp:Password"] = TestServices.ActiveMqPassword,
            [$"O2X:Bindings:{binding}:Transport"] = "ActiveMq",
            [$"O2X:Bindings:{binding}:Address"] = Destination(queue),
        };

        public async Task RawPublishAsync(string queue, IReadOnlyList<byte[]> bodies, int firstId = 0)
        {
            await using var client = await RawAsync();
            // Sliding window: half a window queued and flushed, then wait for the receipt of the half before it.
            var previous = 0;
            const int half = Window / 2;
            for (var i = 0; i < bodies.Count; i += half)
            {
                var last = 0;
                for (var j = i; j < Math.Min(bodies.Count, i + half); j++)
                    last = client.QueueSend(Destination(queue), bodies[j],
                        new Dictionary<string, string> { ["persistent"] = "true", ["message_id"] = "bench-" + (firstId + j) });
                await client.FlushAsync();
                if (previous > 0) await client.AwaitReceiptAsync(previous);
                previous = last;
            }

            if (previous > 0) await client.AwaitReceiptAsync(previous);
        }

        public async Task<TimeSpan> RawConsumeAsync(string queue, int count)
        {
            await using var client = await RawAsync();
            await client.SubscribeAsync(Destination(queue), prefetch: Prefetch);
            Stopwatch? clock = null;
            for (var received = 0; received < count; received++)
            {
                if (await client.ReceiveAsync(TimeSpan.FromSeconds(30)) is not { } message) throw new TimeoutException($"{received} of {count} received");
                clock ??= Stopwatch.StartNew();
                client.QueueAck(message);
            }

            await client.FlushAsync();
            return clock?.Elapsed ?? TimeSpan.Zero;
        }

        public async Task ConnectorPublishAsync(string queue, int count, byte[] body, IMaterializer materializer)
        {
            await using var publisher = new O2X.Streams.Stomp.StompPublisher(new O2X.Streams.Stomp.StompPublishSettings(_connection, Destination(queue)));
            await Source.From(Enumerable.Range(0, count))
                .Select(i => new O2X.Streams.Stomp.StompMessage(body, "bench-" + i))
                .Via(StompFlow.PublishWithReceipt(publisher, Window))
                .RunWith(Sink.Ignore<O2X.Streams.Stomp.StompMessage>(), materializer);
        }

        public Task ConnectorConsumeAsync(string queue, int count, IMaterializer materializer) =>
            Commit(StompSource.Committable(new O2X.Streams.Stomp.StompSourceSettings(_connection, Destination(queue)).WithPrefetch(Prefetch)), count, materializer);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Kafka on librdkafka's mock cluster, in this process (it shares the 2 cores with both sides).</summary>
    private sealed class KafkaBench : IBenchTransport
    {
        private const int Partitions = 4;
        private readonly KafkaMockCluster _cluster = new(brokers: 1);
        private readonly string _prefix = "bench-" + Guid.NewGuid().ToString("N")[..6] + "-";
        private readonly List<string> _created = [];

        private string Topic(string queue)
        {
            if (!_created.Contains(queue))
            {
                _cluster.CreateTopic(_prefix + queue, Partitions);
                _created.Add(queue);
            }

            return _prefix + queue;
        }

        private KafkaConnectionSettings Connection => new(_cluster.BootstrapServers);

        public Dictionary<string, string?> NodeSettings(string binding, string queue) => new()
        {
            ["O2X:Transports:Kafka:BootstrapServers"] = _cluster.BootstrapServers,
            [$"O2X:Bindings:{binding}:Transport"] = "Kafka",
            [$"O2X:Bindings:{binding}:Address"] = Topic(queue),
        };

        public Task RawPublishAsync(string queue, IReadOnlyList<byte[]> bodies, int firstId = 0)
        {
            var count = bodies.Count;
            var topic = Topic(queue);
            using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
            {
                BootstrapServers = _cluster.BootstrapServers,
                Acks = Acks.All,
                EnableIdempotence = true,
                LingerMs = 5,
            }).Build();
            var delivered = 0;
            var failed = 0;
            for (var i = 0; i < count; i++)
            {
                producer.Produce(topic, new Message<string, byte[]> { Key = "k" + ((firstId + i) % 64), Value = bodies[i] }, report =>
                {
                    if (report.Error.IsError) Interlocked.Increment(ref failed);
                    else Interlocked.Increment(ref delivered);
                });
            }

            producer.Flush(TimeSpan.FromMinutes(2));
            if (delivered != count) throw new InvalidOperationException($"{delivered} of {count} delivered, {failed} failed");
            return Task.CompletedTask;
        }

        public Task<TimeSpan> RawConsumeAsync(string queue, int count) => Task.Run(() =>
        {
            Stopwatch? clock = null;
            using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
            {
                BootstrapServers = _cluster.BootstrapServers,
                GroupId = "raw-" + queue,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                EnableAutoCommit = false,
                EnableAutoOffsetStore = false,
            }).Build();
            consumer.Subscribe(Topic(queue));
            var sinceCommit = 0;
            for (var received = 0; received < count;)
            {
                if (consumer.Consume(TimeSpan.FromSeconds(30)) is not { } result) throw new TimeoutException($"{received} of {count} received");
                clock ??= Stopwatch.StartNew();
                received++;
                consumer.StoreOffset(result);
                // Committed in batches of 500, like the connector's default.
                if (++sinceCommit >= 500 || received == count)
                {
                    consumer.Commit();
                    sinceCommit = 0;
                }
            }

            var elapsed = clock?.Elapsed ?? TimeSpan.Zero;
            consumer.Close();
            return elapsed;
        });

        public async Task ConnectorPublishAsync(string queue, int count, byte[] body, IMaterializer materializer)
        {
            using var producer = new KafkaProducer(new KafkaProducerSettings(Connection, Topic(queue)));
            await Source.From(Enumerable.Range(0, count))
                .Select(i => new KafkaMessage("k" + (i % 64), body))
                .Via(KafkaFlow.Publish(producer))
                .RunWith(Sink.Ignore<KafkaDelivery>(), materializer);
        }

        public Task ConnectorConsumeAsync(string queue, int count, IMaterializer materializer) =>
            Commit(KafkaSource.Committable(new KafkaConsumerSettings(Connection, "connector-" + queue, Topic(queue))
                .WithStartFrom(AutoOffsetReset.Earliest)), count, materializer);

        public ValueTask DisposeAsync()
        {
            _cluster.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The raw RabbitMQ.Client consume loop of the baselines: basic.qos, an async consumer, one basic.ack per message.</summary>
internal static class RawRabbitMq
{
    /// <summary>Returns the time from the first delivery to the last ack.</summary>
    public static async Task<TimeSpan> ConsumeAsync(RabbitMQ.Client.IConnection connection, string queue, int count, ushort prefetch)
    {
        Stopwatch? clock = null;
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, prefetch, false);
        var received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            clock ??= Stopwatch.StartNew();
            await channel.BasicAckAsync(delivery.DeliveryTag, false);
            if (++received == count) done.TrySetResult();
        };
        var tag = await channel.BasicConsumeAsync(queue, false, consumer);
        await done.Task;
        var elapsed = clock!.Elapsed;
        await channel.BasicCancelAsync(tag);
        return elapsed;
    }
}
