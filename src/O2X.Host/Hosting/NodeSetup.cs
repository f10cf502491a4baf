using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Event;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Streams;
using O2X.Actors.Hosting;
using O2X.Actors.Messaging.DeadLetters;
using O2X.Actors.Messaging.Outbox;
using O2X.Actors.Messaging.Retries;
using O2X.Actors.Messaging.Rejections;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;
using O2X.Actors.Sharding;
using O2X.Host.Bindings;
using O2X.Host.Observability;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;

namespace O2X.Host.Hosting;

/// <summary>Registry key of the dead-letter reprocessor singleton.</summary>
internal sealed class DeadLetterReprocessorSingleton;

/// <summary>Composes an O2X node: typed settings, the Akka.NET cluster with its entities, and HTTP ingestion.</summary>
internal static class NodeSetup
{
    public static WebApplicationBuilder AddO2XNode(this WebApplicationBuilder builder)
    {
        var settings = O2XSettings.Load(builder.Configuration);
        if (settings.Admin.Url.Length > 0)
        {
            // The admin listener (default http://127.0.0.1:9110, for the o2x tool) comes on top of the node's own URLs.
            var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? "http://localhost:5000";
            builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, urls + ";" + settings.Admin.Url);
        }

        var database = new O2XDatabase(settings.Persistence);
        var outboxStore = new OutboxStore(database);
        var attempts = new DeliveryAttemptStore(database);
        var deadLetters = new DeadLetterStore(database);
        var queues = new IngestionQueues();
        var breakers = new BindingBreakers();
        var transports = new BrokerTransports(settings.Transports, deadLetters);
        var brokers = new BrokerBindings();
        // Where a message is put on a queue (see QueueTargets).
        O2X.Actors.Messaging.IRequeueTarget? TargetOf(string queue) => brokers.RequeueTargetFor(queue) ?? (queues.TryGet(queue, out var local) ? local : null);
        var requeuer = new DeadLetterRequeuer(deadLetters, attempts, TargetOf);
        builder.Services.AddSingleton(new QueueTargets(TargetOf));
        builder.Services.AddSingleton(new Actors.Bulk.BulkStore(database));
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(outboxStore);
        builder.Services.AddSingleton(attempts);
        builder.Services.AddSingleton(deadLetters);
        builder.Services.AddSingleton(queues);
        builder.Services.AddSingleton(breakers);
        builder.Services.AddSingleton(requeuer);
        builder.Services.AddSingleton(brokers);
        builder.Services.AddSingleton(transports);
        builder.Services.AddSingleton<Bindings.BrokerDeadLetterImport>();
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(new ProvisioningWatchStore(database));
        builder.Services.AddSingleton(new Actors.Usage.UsageStore(database));
        builder.Services.AddSingleton(new Actors.Usage.UsageRater(database, Actors.Usage.RatingCatalog.Default));
        builder.Services.AddSingleton(new Actors.Usage.PricePlanStore(database));
        var metrics = new Observability.O2XMetrics(brokers, breakers);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddHostedService<Observability.GcPauses>();
        builder.Services.AddO2XHealthChecks(builder.Logging);
        builder.Services.AddHostedService<NodeMonitor>();
        builder.Services.AddSingleton<QueueHistory>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<QueueHistory>());
        builder.Services.AddSingleton<Apis.AdminAccess>();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<Apis.UnansweredAskHandler>();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper));
        });

        builder.Services.AddAkka(settings.Node.ActorSystemName, (akka, services) =>
        {
            var loggerFactory = services.GetRequiredService<ILoggerFactory>();
            var logger = loggerFactory.CreateLogger("O2X.Node");
            logger.LogInformation("Persistence: {Store}", settings.Persistence.Describe());
            DatabasePreparation.Prepare(settings.Persistence);

            akka.ConfigureLoggers(loggers =>
                {
                    // Akka logs through Microsoft.Extensions.Logging; its own level follows the "Akka" category.
                    loggers.LogLevel = AkkaLogLevel(loggerFactory.CreateLogger("Akka"));
                    loggers.ClearLoggers();
                    loggers.AddLoggerFactory();
                })
                .WithActorSystemLivenessCheck(tags: [O2XHealthChecks.Live])
                .WithAkkaClusterReadinessCheck(tags: [O2XHealthChecks.Ready])
                .WithO2XSerialization()
                .WithO2XCluster(settings.Node)
                .WithO2XPersistence(settings.Persistence, settings.Outbox)
                .WithO2XOutbox(settings.Outbox, outboxStore, settings.Persistence)
                .WithO2XEntities(settings.Entities, settings.Persistence, new OrderNumberStore(database))
                .AddHocon($"akka.coordinated-shutdown.phases.before-service-unbind.timeout = {(int)(DrainTimeout.TotalSeconds + 10)}s",
                    HoconAddMode.Prepend)
                .WithSingleton<DeadLetterReprocessorSingleton>("dead-letter-reprocessor",
                    DeadLetterReprocessor.Props(deadLetters, requeuer, DeadLetterPolicyFor(settings), settings.DeadLetters.ReprocessInterval,
                        settings.DeadLetters.StaleRequeueAfter),
                    new ClusterSingletonOptions { Role = NodeRoles.Ingest }, createProxyToo: false)
                .WithActors((system, registry) =>
                {
                    metrics.Attach(system);
                    var observer = new Observers(metrics, new MessageLog(loggerFactory.CreateLogger<MessageLog>()));
                    StartIngestion(system, registry, settings, queues, breakers, attempts, deadLetters, transports, brokers, database, metrics, observer);
                });
            if (settings.Rating.TriggerEnabled && settings.Bindings.TryGetValue(QueueNames.Usage, out var usage) && usage.Enabled)
            {
                Task<bool> Enqueue(O2X.Actors.Messaging.MessageEnvelope envelope) =>
                    TargetOf(QueueNames.Usage)?.RequeueAsync(envelope, CancellationToken.None) ?? Task.FromResult(false);
                akka.WithSingleton<Actors.Usage.UsageRatingTriggerSingleton>("usage-rating-trigger",
                    Actors.Usage.UsageRatingTrigger.Props(database, Enqueue, settings.Rating.TriggerInterval, settings.Rating.BatchSize),
                    new ClusterSingletonOptions { Role = NodeRoles.Ingest }, createProxyToo: false);
            }

            if (settings.Billing.Enabled)
            {
                akka.WithSingleton<Actors.Invoicing.BillRunCoordinatorSingleton>("bill-run-coordinator", (_, registry, _) =>
                        Actors.Invoicing.BillRunCoordinator.Props(
                            new Actors.Invoicing.BillRunner(database, registry.Get<Actors.Sharding.AccountRegion>(), settings.Billing.Terms,
                                settings.Entities.AskTimeout, Actors.Usage.RatingCatalog.Default, settings.Billing.BatchSize,
                                settings.Billing.PauseBetweenBatches),
                            database, settings.Billing.ScheduleEnabled ? settings.Billing.CheckInterval : null),
                    new ClusterSingletonOptions { Role = NodeRoles.Entities }, createProxyToo: true);
            }

            // The outbox projection keeps the watch: without it (O2X:Outbox:Enabled off, for diagnosis only) nothing is watched.
            if (settings.Orders.WatchdogEnabled && settings.Outbox.Enabled)
            {
                akka.WithSingleton<Actors.Orders.ProvisioningWatchdogSingleton>("provisioning-watchdog", (_, registry, _) =>
                        Actors.Orders.ProvisioningWatchdog.Props(new ProvisioningWatchStore(database), registry.Get<Actors.Sharding.OrderRegion>(),
                            settings.Orders.ProvisioningTimeout, settings.Orders.StuckCheckInterval, settings.Entities.AskTimeout),
                    new ClusterSingletonOptions { Role = NodeRoles.Entities }, createProxyToo: false);
            }

            if (settings.Outbox.Enabled && settings.DestinationTransports.Count > 0)
            {
                var publishers = settings.DestinationTransports.ToDictionary(
                    d => d.Key,
                    d => (Func<O2X.Actors.Messaging.Bindings.IOutboundPublisher>)(() => transports.Publisher(
                        d.Key, d.Value.Transport, transports.AddressOf(d.Value.Transport, d.Key, d.Value.Address), d.Value.QueueType)));
                logger.LogInformation("Outbox relay: {Destinations}",
                    string.Join(", ", settings.DestinationTransports.Select(d => $"{d.Key} → {d.Value.Transport} {transports.AddressOf(d.Value.Transport, d.Key, d.Value.Address)}")));
                akka.WithSingleton<OutboxRelaySingleton>("outbox-relay", OutboxRelay.Props(outboxStore, settings.Outbox, publishers),
                    new ClusterSingletonOptions { Role = NodeRoles.Entities }, createProxyToo: false);
            }

            if (settings.Outbox.Enabled && settings.Outbox.RetentionEnabled)
            {
                akka.WithSingleton<OutboxRetentionSingleton>("outbox-retention",
                    OutboxRetention.Props(outboxStore, settings.Outbox, settings.DestinationTransports.Keys.ToHashSet(StringComparer.Ordinal)),
                    new ClusterSingletonOptions { Role = NodeRoles.Entities }, createProxyToo: false);
            }
        });
        return builder;
    }

    /// <summary>How long shutdown waits for broker bindings to settle what they hold before leaving it to the broker.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(20);

    private static Akka.Event.LogLevel AkkaLogLevel(ILogger logger) =>
        logger.IsEnabled(LogLevel.Debug) ? Akka.Event.LogLevel.DebugLevel
        : logger.IsEnabled(LogLevel.Information) ? Akka.Event.LogLevel.InfoLevel
        : logger.IsEnabled(LogLevel.Warning) ? Akka.Event.LogLevel.WarningLevel
        : Akka.Event.LogLevel.ErrorLevel;

    private static Func<string, DeadLetterPolicy> DeadLetterPolicyFor(O2XSettings settings) =>
        queue => settings.Bindings.TryGetValue(queue, out var binding) ? binding.DeadLetters.ToPolicy() : DeadLetterPolicy.Default;

    private static void StartIngestion(ActorSystem system, IActorRegistry registry, O2XSettings settings, IngestionQueues queues,
        BindingBreakers breakers, DeliveryAttemptStore attempts, DeadLetterStore deadLetters, BrokerTransports transports, BrokerBindings brokers, O2XDatabase database,
        Observability.O2XMetrics metrics, O2X.Actors.Messaging.IHandlingObserver observer)
    {
        var materializer = system.Materializer(namePrefix: "ingestion");
        var timeout = settings.Entities.AskTimeout;
        var regions = new EntityRegions(
            registry.Get<OrderRegion>(), registry.Get<AccountRegion>(), registry.Get<OrderNumberRegion>(), registry.Get<RejectionLogRegion>());
        var catalog = new ProductCatalog(settings.Catalog.EffectiveProducts);
        var log = Akka.Event.Logging.GetLogger(system, "O2X.Bindings");
        // Lives as long as the node; cancelled once the drain gave up waiting, so what is left goes back to the broker at once.
        var stopping = new CancellationTokenSource();
        var stoppingToken = stopping.Token;

        foreach (var (queue, binding) in settings.Bindings)
        {
            if (!binding.Enabled) continue;
            var handler = QueueHandlers.Create(binding.Handler!, new HandlerContext(queue, system, regions, catalog, timeout, database, settings.UsageFiles));
            var parallelism = binding.Concurrency ?? settings.Ingestion.Parallelism;
            var handling = HandlingSettings.Default
                .WithParallelism(parallelism)
                .WithMaxHeld(Math.Max(parallelism * 4, HandlingSettings.Default.MaxHeld))
                .WithObserver(observer);
            // An attempt may ask a few entities in turn; it counts as failed after three ask timeouts.
            var attemptTimeout = binding.AttemptTimeout ?? timeout * 3;
            var breaker = new BindingCircuitBreaker(system.Scheduler, binding.CircuitBreaker.MaxFailures, attemptTimeout,
                binding.CircuitBreaker.ResetTimeout, binding.CircuitBreaker.MaxResetTimeout);
            var retry = new RetrySettings(queue, binding.Retry.ToPolicy(), binding.Exceptions.ToPolicy(), breaker, binding.DeadLetterDestination, attemptTimeout)
            {
                OnRetryScheduled = (q, _, _) => metrics.RetryScheduled(q),
            };
            var supervisor = system.ActorOf(BindingRetrySupervisor.Props(retry, attempts, deadLetters), "retries-" + queue);
            var errors = new RejectionLogErrorQueue(regions.Rejections, binding.ErrorDestination ?? Destinations.OmsError, timeout);
            breakers.Add(queue, breaker);
            var executor = new SupervisedRetryExecutor(system, supervisor, retry);
            queues.Add(new IngestionQueue(queue, handler, settings.Ingestion.QueueCapacity, handling, materializer, errors, executor));
            if (binding.Transport == TransportKind.Embedded) continue;
            if (!settings.Node.EffectiveRoles.Contains(NodeRoles.Ingest))
            {
                log.Info("Queue {0} is bound to {1}, but this node has no '{2}' role: it does not consume from the broker", queue, binding.Transport,
                    NodeRoles.Ingest);
                continue;
            }

            // The same handler, retries and error queue behind a broker source: the transport is configuration only.
            var running = transports.Run(queue, binding, handler, handling, BrokerBindingSettings.Default, materializer, errors, executor, stoppingToken);
            var address = transports.AddressOf(binding.Transport, queue, binding.Address);
            brokers.Add(running, () => transports.Publisher(queue, binding.Transport, address, binding.QueueType));
            running.Completion.ContinueWith(
                t => log.Error(t.Exception?.GetBaseException(), "Binding {0} on {1} {2} stopped with an error", queue, binding.Transport, address),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            log.Info("Queue {0} consumes {1} {2} (prefetch {3}, concurrency {4})", queue, binding.Transport, address, binding.Prefetch, parallelism);
        }

        // Finish what was accepted before the cluster hands shards off (coordinated shutdown): broker bindings stop
        // pulling and settle what they hold, HTTP queues finish what they accepted.
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "drain-ingestion", async () =>
        {
            await brokers.StopAsync(DrainTimeout).ConfigureAwait(false);
            await stopping.CancelAsync().ConfigureAwait(false);
            await queues.DrainAsync().ConfigureAwait(false);
            await brokers.DisposeAsync().ConfigureAwait(false);
            return Akka.Done.Instance;
        });
    }
}
