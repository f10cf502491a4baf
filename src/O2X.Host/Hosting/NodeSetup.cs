using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using O2X.Actors.Hosting;
using O2X.Actors.Messaging.Outbox;
using O2X.Actors.Messaging.Rejections;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;
using O2X.Actors.Sharding;
using O2X.Host.Ingestion;
using O2X.Streams.Bindings;
using O2X.Streams.Http;
using O2X.Streams.Messaging;

namespace O2X.Host.Hosting;

/// <summary>Composes an O2X node: typed settings, the Akka.NET cluster with its entities, and HTTP ingestion.</summary>
public static class NodeSetup
{
    public static WebApplicationBuilder AddO2XNode(this WebApplicationBuilder builder)
    {
        var settings = O2XSettings.Load(builder.Configuration);
        var outboxStore = new OutboxStore(new O2XDatabase(settings.Persistence));
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(outboxStore);
        builder.Services.AddSingleton<IngestionQueues>();
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
                .WithActors((system, registry) => StartIngestion(system, registry, settings, services.GetRequiredService<IngestionQueues>()));
        });
        return builder;
    }

    private static Akka.Event.LogLevel AkkaLogLevel(ILogger logger) =>
        logger.IsEnabled(LogLevel.Debug) ? Akka.Event.LogLevel.DebugLevel
        : logger.IsEnabled(LogLevel.Information) ? Akka.Event.LogLevel.InfoLevel
        : logger.IsEnabled(LogLevel.Warning) ? Akka.Event.LogLevel.WarningLevel
        : Akka.Event.LogLevel.ErrorLevel;

    private static void StartIngestion(ActorSystem system, IActorRegistry registry, O2XSettings settings, IngestionQueues queues)
    {
        var materializer = system.Materializer(namePrefix: "ingestion");
        var handling = HandlingSettings.Default
            .WithParallelism(settings.Ingestion.Parallelism)
            .WithMaxHeld(Math.Max(settings.Ingestion.Parallelism * 4, HandlingSettings.Default.MaxHeld));
        var timeout = settings.Entities.AskTimeout;
        var regions = new EntityRegions(
            registry.Get<OrderRegion>(), registry.Get<AccountRegion>(), registry.Get<OrderNumberRegion>(), registry.Get<RejectionLogRegion>());
        var omsErrors = new RejectionLogErrorQueue(regions.Rejections, Destinations.OmsError, timeout);
        var orderUpdater = new OrderUpdater(regions, timeout);

        void Bind(string queue, IMessageHandler handler, IErrorQueue errors) =>
            queues.Add(new IngestionQueue(queue, handler, settings.Ingestion.QueueCapacity, handling, materializer, errors));

        Bind(QueueNames.Oms, new OmsReceiver(regions, new ProductCatalog(settings.Catalog.EffectiveProducts), timeout), omsErrors);
        Bind(QueueNames.ProvisioningResponse, orderUpdater, omsErrors);
        Bind(QueueNames.McmBillingOmsResponse, orderUpdater, omsErrors);

        // Finish what was accepted before the cluster hands shards off (coordinated shutdown).
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "drain-ingestion", async () =>
        {
            await queues.DrainAsync().ConfigureAwait(false);
            return Akka.Done.Instance;
        });
    }
}
