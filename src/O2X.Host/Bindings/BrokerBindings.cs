using System.Collections.Concurrent;
using Akka.Streams;
using O2X.Actors.Hosting;
using O2X.Host.Hosting;
using O2X.Streams.Amqp;
using O2X.Streams.Amqp10;
using O2X.Actors.Messaging.Bindings;
using O2X.Streams.Dsl;
using O2X.Streams.Kafka;
using O2X.Streams.Stomp;
using O2X.Actors.Messaging;

namespace O2X.Host.Bindings;

/// <summary>
/// Creates broker sources and publishers from the node's transport settings (<c>O2X:Transports</c>): the one
/// place that knows which connector serves which <see cref="TransportKind"/>.
/// </summary>
internal sealed class BrokerTransports(TransportOptions transports, Actors.Persistence.DeadLetterStore? deadLetters = null)
{
    /// <summary>The broker address of a queue or destination: the configured one, else its name (AMQP 1.0: through the address template).</summary>
    public string AddressOf(TransportKind transport, string name, string? configured) => configured ?? transport switch
    {
        TransportKind.Amqp10 => transports.Amqp10.AddressOf(name),
        TransportKind.Stomp => transports.Stomp.DestinationOf(name),
        _ => name,
    };

    /// <summary>Consumes <paramref name="queue"/>'s broker address through the handling pipeline.</summary>
    public RunningBinding Run(string queue, BindingOptions binding, IMessageHandler handler, HandlingSettings handling,
        BrokerBindingSettings settings, IMaterializer materializer, IErrorQueue errors, IHandlingExecutor executor, CancellationToken stopping)
    {
        var address = AddressOf(binding.Transport, queue, binding.Address);
        var max = settings.MaxMessageBytes;
        switch (binding.Transport)
        {
            case TransportKind.Amqp091:
                var amqp = new AmqpSourceSettings(transports.RabbitMq.ToSettings(), address)
                    .WithPrefetch((ushort)binding.Prefetch)
                    .WithTopology(AmqpTopology.ForQueue(address, binding.QueueType));
                return BrokerBinding.Run(queue, AmqpSource.Committable(amqp), m => TransportEnvelopes.FromAmqp(queue, m, max),
                    handler, handling, settings, materializer, errors, executor, stopping);
            case TransportKind.Amqp10:
                var amqp10 = new Amqp10SourceSettings(transports.Amqp10.ToSettings(), address).WithCredit(binding.Prefetch);
                return BrokerBinding.Run(queue, Amqp10Source.Committable(amqp10), m => TransportEnvelopes.FromAmqp10(queue, m, max),
                    handler, handling, settings, materializer, errors, executor, stopping);
            case TransportKind.Kafka:
                var kafka = new KafkaConsumerSettings(transports.Kafka.ToSettings(), binding.ConsumerGroup, address)
                    .WithMaxInFlightPerPartition(binding.Prefetch)
                    .WithSessionTimeout(transports.Kafka.SessionTimeout);
                return BrokerBinding.Run(queue, KafkaSource.Committable(kafka), r => TransportEnvelopes.FromKafka(queue, r, max),
                    handler, handling, settings, materializer, errors, executor, stopping);
            case TransportKind.Stomp:
                var stomp = new StompSourceSettings(transports.Stomp.ToSettings(), address).WithPrefetch(binding.Prefetch);
                return BrokerBinding.Run(queue, StompSource.Committable(stomp), m => TransportEnvelopes.FromStomp(queue, m, max),
                    handler, handling, settings, materializer, errors, executor, stopping);
            default:
                throw new ArgumentOutOfRangeException(nameof(binding), binding.Transport, "The embedded transport has no broker source.");
        }
    }

    /// <summary>A confirming publisher to <paramref name="address"/> on <paramref name="transport"/>.</summary>
    public IOutboundPublisher Publisher(string destination, TransportKind transport, string address, AmqpQueueType queueType) => transport switch
    {
        TransportKind.Amqp091 => new AmqpOutboundPublisher(destination, transports.RabbitMq.ToSettings(), address, queueType),
        TransportKind.Amqp10 => new Amqp10OutboundPublisher(destination, transports.Amqp10.ToSettings(), address),
        TransportKind.Kafka => new KafkaOutboundPublisher(destination, transports.Kafka.ToSettings(), address),
        TransportKind.Stomp => new StompOutboundPublisher(destination, transports.Stomp.ToSettings(), address),
        TransportKind.Smtp => new SmtpInvoicePublisher(destination, transports.Smtp, deadLetters),
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "The embedded transport has no publisher."),
    };
}

/// <summary>
/// The broker bindings running on this node, and where a dead letter of a broker-bound queue is requeued: back
/// onto its broker queue (publishers created on first use).
/// </summary>
internal sealed class BrokerBindings : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, RunningBinding> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<BrokerRequeueTarget>> _requeue = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<IOutboundPublisher> _publishers = [];

    public IReadOnlyDictionary<string, RunningBinding> Running => _running;

    public void Add(RunningBinding binding, Func<IOutboundPublisher> requeuePublisher)
    {
        if (!_running.TryAdd(binding.Queue, binding)) throw new InvalidOperationException($"Queue {binding.Queue} is already bound to a broker.");
        _requeue[binding.Queue] = new Lazy<BrokerRequeueTarget>(() =>
        {
            var publisher = requeuePublisher();
            _publishers.Add(publisher);
            return new BrokerRequeueTarget(binding.Queue, publisher);
        });
    }

    public IRequeueTarget? RequeueTargetFor(string queue) => _requeue.TryGetValue(queue, out var target) ? target.Value : null;

    /// <summary>Graceful drain of every binding: stop pulling, finish and settle what is in flight, close.</summary>
    public Task StopAsync(TimeSpan drainTimeout) =>
        Task.WhenAll(_running.Values.Select(async b =>
        {
            await b.Control.StopAsync(drainTimeout).ConfigureAwait(false);
            await Task.WhenAny(b.Completion, Task.Delay(drainTimeout)).ConfigureAwait(false);
        }));

    public async ValueTask DisposeAsync()
    {
        foreach (var publisher in _publishers) await publisher.DisposeAsync().ConfigureAwait(false);
    }
}
