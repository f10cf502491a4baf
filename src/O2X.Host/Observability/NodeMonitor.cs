using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Host.Hosting;
using O2X.Host.Bindings;
using O2X.Streams.Amqp;
using O2X.Streams.Kafka;
using O2X.Streams.Stomp;

namespace O2X.Host.Observability;

/// <summary>
/// Samples what is too slow to read at scrape time, every <c>O2X:Admin:MetricsSampleInterval</c>: broker queue
/// depth and consumers (RabbitMQ, passive declare), Kafka consumer lag, dead letters waiting per queue, STUCK orders, entities
/// running here per type. A failing probe is logged once per failure streak and retried next time.
/// </summary>
internal sealed class NodeMonitor(
    O2XSettings settings, BrokerTransports transports, BrokerBindings brokers, DeadLetterStore deadLetters, ProvisioningWatchStore watch, O2XMetrics metrics,
    IServiceProvider services, ILogger<NodeMonitor> log)
    : BackgroundService
{
    private readonly HashSet<string> _failing = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var rabbit = settings.Bindings.Values.Any(b => b.Transport == TransportKind.Amqp091)
            ? new AmqpQueueInspector(settings.Transports.RabbitMq.ToSettings()) : null;
        using var kafka = settings.Bindings.Values.Any(b => b.Transport == TransportKind.Kafka)
            ? new KafkaLagInspector(settings.Transports.Kafka.ToSettings()) : null;
        await using var activeMq = settings.Bindings.Values.Any(b => b.Transport == TransportKind.Stomp)
            ? new StompQueueInspector(settings.Transports.Stomp.ToSettings()) : null;
        using var timer = new PeriodicTimer(settings.Admin.MetricsSampleInterval);
        do
        {
            foreach (var (queue, running) in brokers.Running)
            {
                var binding = settings.Bindings[queue];
                var address = transports.AddressOf(binding.Transport, queue, binding.Address);
                if (binding.Transport == TransportKind.Amqp091 && rabbit is not null)
                    await Probe("depth of " + queue, async () =>
                    {
                        var (messages, consumers) = await rabbit.InspectAsync(address, stoppingToken);
                        metrics.SetQueueDepth(queue, messages, consumers);
                    });
                else if (binding.Transport == TransportKind.Stomp && activeMq is not null)
                    await Probe("statistics of " + queue, async () =>
                    {
                        // ActiveMQ's statistics plugin; no answer (null) while the queue does not exist on the broker yet.
                        if (await activeMq.GetAsync(address, TimeSpan.FromSeconds(5), stoppingToken) is { } statistics)
                            metrics.SetBrokerStatistics(queue, statistics.Size, statistics.ConsumerCount, statistics.EnqueueCount, statistics.DequeueCount);
                    });
                else if (binding.Transport == TransportKind.Kafka && kafka is not null)
                    await Probe("lag of " + queue, async () => metrics.SetConsumerLag(queue, await kafka.LagAsync(binding.ConsumerGroup, address, stoppingToken)));
            }

            await Probe("dead letters", async () =>
            {
                var counts = await deadLetters.CountByQueueAsync(DeadLetterStatus.Dead, stoppingToken);
                foreach (var queue in settings.Bindings.Keys.Concat(counts.Keys).Distinct()) metrics.SetDeadLetters(queue, counts.GetValueOrDefault(queue));
            });
            if (settings.Orders.WatchdogEnabled)
                await Probe("stuck orders", async () => metrics.SetStuckOrders(await watch.CountStuckAsync(stoppingToken)));
            await Probe("entities", () => SampleEntitiesAsync(stoppingToken));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task SampleEntitiesAsync(CancellationToken ct)
    {
        if (services.GetService<IReadOnlyActorRegistry>() is not { } registry) return;
        foreach (var (type, region) in ShardRegions.Started(registry))
        {
            var stats = await region.Ask<ShardRegionStats>(GetShardRegionStats.Instance, TimeSpan.FromSeconds(5), ct);
            metrics.SetActiveEntities(type, stats.Stats.Values.Sum());
        }
    }

    private async Task Probe(string what, Func<Task> probe)
    {
        try
        {
            await probe();
            if (_failing.Remove(what)) log.LogInformation("Sampling {What} works again", what);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            if (_failing.Add(what)) log.LogWarning("Sampling {What} failed ({Error}); trying again every interval", what, ex.Message);
        }
    }
}
