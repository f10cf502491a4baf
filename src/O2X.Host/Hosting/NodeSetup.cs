using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
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
using O2X.Host.Ingestion;
using O2X.Streams.Bindings;
using O2X.Streams.Http;
using O2X.Streams.Messaging;

namespace O2X.Host.Hosting;

/// <summary>Registry key of the dead-letter reprocessor singleton.</summary>
public sealed class DeadLetterReprocessorSingleton;

/// <summary>Composes an O2X node: typed settings, the Akka.NET cluster with its entities, and HTTP ingestion.</summary>
public static class NodeSetup
{
    public static WebApplicationBuilder AddO2XNode(this WebApplicationBuilder builder)
    {
        var settings = O2XSettings.Load(builder.Configuration);
        var database = new O2XDatabase(settings.Persistence);
        var outboxStore = new OutboxStore(database);
        var attempts = new DeliveryAttemptStore(database);
        var deadLetters = new DeadLetterStore(database);
        var queues = new IngestionQueues();
        var breakers = new BindingBreakers();
        var requeuer = new DeadLetterRequeuer(deadLetters, attempts, queue => queues.TryGet(queue, out var target) ? target : null);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(outboxStore);
        builder.Services.AddSingleton(attempts);
        builder.Services.AddSingleton(deadLetters);
        builder.Services.AddSingleton(queues);
        builder.Services.AddSingleton(breakers);
        builder.Services.AddSingleton(requeuer);
        builder.Services.AddSingleton<Apis.AdminAccess>();
        builder.Services.AddProblemDetails();
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
                .WithO2XSerialization()
                .WithO2XCluster(settings.Node)
                .WithO2XPersistence(settings.Persistence, settings.Outbox)
                .WithO2XEntities(settings.Entities, settings.Persistence)
                .WithO2XOutbox(settings.Outbox, outboxStore, settings.Persistence)
                .WithSingleton<DeadLetterReprocessorSingleton>("dead-letter-reprocessor",
                    DeadLetterReprocessor.Props(deadLetters, requeuer, DeadLetterPolicyFor(settings), settings.DeadLetters.ReprocessInterval,
                        settings.DeadLetters.StaleRequeueAfter),
                    new ClusterSingletonOptions { Role = NodeRoles.Ingest }, createProxyToo: false)
                .WithActors((system, registry) => StartIngestion(system, registry, settings, queues, breakers, attempts, deadLetters));
        });
        return builder;
    }

    private static Akka.Event.LogLevel AkkaLogLevel(ILogger logger) =>
        logger.IsEnabled(LogLevel.Debug) ? Akka.Event.LogLevel.DebugLevel
        : logger.IsEnabled(LogLevel.Information) ? Akka.Event.LogLevel.InfoLevel
        : logger.IsEnabled(LogLevel.Warning) ? Akka.Event.LogLevel.WarningLevel
        : Akka.Event.LogLevel.ErrorLevel;

    private static Func<string, DeadLetterPolicy> DeadLetterPolicyFor(O2XSettings settings) =>
        queue => settings.Bindings.TryGetValue(queue, out var binding) ? binding.DeadLetters.ToPolicy() : DeadLetterPolicy.Default;

    private static void StartIngestion(ActorSystem system, IActorRegistry registry, O2XSettings settings, IngestionQueues queues,
        BindingBreakers breakers, DeliveryAttemptStore attempts, DeadLetterStore deadLetters)
    {
        var materializer = system.Materializer(namePrefix: "ingestion");
        var handling = HandlingSettings.Default
            .WithParallelism(settings.Ingestion.Parallelism)
            .WithMaxHeld(Math.Max(settings.Ingestion.Parallelism * 4, HandlingSettings.Default.MaxHeld));
        var timeout = settings.Entities.AskTimeout;
        var regions = new EntityRegions(
            registry.Get<OrderRegion>(), registry.Get<AccountRegion>(), registry.Get<OrderNumberRegion>(), registry.Get<RejectionLogRegion>());
        var orderUpdater = new OrderUpdater(regions, timeout);

        void Bind(string queue, IMessageHandler handler)
        {
            var binding = settings.Bindings[queue];
            if (!binding.Enabled) return;
            // An attempt may ask a few entities in turn; it counts as failed after three ask timeouts.
            var attemptTimeout = timeout * 3;
            var breaker = new BindingCircuitBreaker(system.Scheduler, binding.CircuitBreaker.MaxFailures, attemptTimeout,
                binding.CircuitBreaker.ResetTimeout, binding.CircuitBreaker.MaxResetTimeout);
            var retry = new RetrySettings(queue, binding.Retry.ToPolicy(), binding.Exceptions.ToPolicy(), breaker, binding.DeadLetterDestination, attemptTimeout);
            var supervisor = system.ActorOf(BindingRetrySupervisor.Props(retry, attempts, deadLetters), "retries-" + queue);
            var errors = new RejectionLogErrorQueue(regions.Rejections, binding.ErrorDestination ?? Destinations.OmsError, timeout);
            breakers.Add(queue, breaker);
            queues.Add(new IngestionQueue(queue, handler, settings.Ingestion.QueueCapacity, handling, materializer, errors,
                new SupervisedRetryExecutor(system, supervisor, retry)));
        }

        Bind(QueueNames.Oms, new OmsReceiver(regions, new ProductCatalog(settings.Catalog.EffectiveProducts), timeout));
        Bind(QueueNames.ProvisioningResponse, orderUpdater);
        Bind(QueueNames.McmBillingOmsResponse, orderUpdater);

        // Finish what was accepted before the cluster hands shards off (coordinated shutdown).
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "drain-ingestion", async () =>
        {
            await queues.DrainAsync().ConfigureAwait(false);
            return Akka.Done.Instance;
        });
    }
}
