using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Persistence.Sql;
using Akka.Remote.Hosting;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging.Outbox;
using O2X.Actors.Messaging.Rejections;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;
using O2X.Actors.Serialization;
using O2X.Actors.Sharding;

namespace O2X.Actors.Hosting;

/// <summary>Akka.Hosting building blocks of an O2X node; <c>Program.cs</c> composes them.</summary>
internal static class O2XAkkaHostingExtensions
{
    /// <summary>Binds every <see cref="IO2XMessage"/> to <see cref="O2XSerializer"/>.</summary>
    public static AkkaConfigurationBuilder WithO2XSerialization(this AkkaConfigurationBuilder builder) =>
        builder.WithCustomSerializer("o2x", [typeof(IO2XMessage)], system => new O2XSerializer(system));

    /// <summary>
    /// Remoting and cluster membership from <see cref="NodeOptions"/>. Split-brain resolver: keep-majority.
    /// With no seed nodes the node joins itself and forms a one-node cluster.
    /// </summary>
    public static AkkaConfigurationBuilder WithO2XCluster(this AkkaConfigurationBuilder builder, NodeOptions node)
    {
        builder
            .WithRemoting(new RemoteOptions
            {
                HostName = node.Hostname,
                Port = node.Port,
                PublicHostName = node.PublicHostname,
            })
            .WithClustering(new ClusterOptions
            {
                SeedNodes = node.SeedNodes,
                Roles = [.. node.EffectiveRoles],
                SplitBrainResolver = new KeepMajorityOption(),
            })
            .AddHocon($"akka.cluster.split-brain-resolver.stable-after = {(long)node.DowningStableAfter.TotalMilliseconds}ms", HoconAddMode.Prepend)
            // Akka.NET's singleton proxies warn "failed to find an associated singleton … after 30 seconds" at every start and
            // oldest change, in the millisecond they begin to look (akkadotnet/akka.net#8568): a false alarm on every node at
            // 3 a.m. The one proxy O2X starts (the bill-run coordinator's) answers an unreachable singleton with 503 instead.
            .AddHocon("akka.cluster.singleton-proxy.log-singleton-identification-failure = off", HoconAddMode.Prepend);

        if (node.SeedNodes.Length == 0)
        {
            builder.AddStartup((system, _) =>
            {
                var cluster = Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            });
        }

        return builder;
    }

    /// <summary>
    /// Akka.Persistence.Sql journal, snapshot store and read journal on SQLite or PostgreSQL; events that
    /// produce outbound messages are tagged for the outbox projection.
    /// </summary>
    public static AkkaConfigurationBuilder WithO2XPersistence(this AkkaConfigurationBuilder builder, PersistenceOptions persistence, OutboxOptions outbox) =>
        builder
            .AddHocon(SqlPersistenceConfig.Create(persistence, outbox.PollInterval), HoconAddMode.Prepend)
            .AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append);

    /// <summary>
    /// The outbox: written by this node's journal writer in the transaction of the events it derives from
    /// (<see cref="OutboxInJournal"/>), registered before the entities start, so call this before
    /// <see cref="WithO2XEntities"/>; and the outbox projection as a cluster singleton, for events another journal tagged.
    /// </summary>
    public static AkkaConfigurationBuilder WithO2XOutbox(this AkkaConfigurationBuilder builder, OutboxOptions outbox, OutboxStore store, PersistenceOptions persistence)
    {
        if (!outbox.Enabled) return builder;
        if (outbox.InJournalEnabled && persistence.Journal == JournalKind.Batching)
            builder.WithActors((system, _) => Persistence.Journal.InlineProjections.For(system).Register(new OutboxInJournal(store, system.Log)));
        return builder.WithSingleton<OutboxProjectionSingleton>("outbox-projection", OutboxProjection.Props(store, outbox, persistence),
            new ClusterSingletonOptions { Role = NodeRoles.Entities }, createProxyToo: false);
    }

    /// <summary>The Order, Account and order-number shard regions, hosted on nodes with the <c>entities</c> role.</summary>
    public static AkkaConfigurationBuilder WithO2XEntities(this AkkaConfigurationBuilder builder, EntityOptions entities, PersistenceOptions persistence,
        OrderNumberStore orderNumbers)
    {
        ShardOptions PassivatingAfter(TimeSpan idle) => new()
        {
            Role = NodeRoles.Entities,
            StateStoreMode = Akka.Cluster.Sharding.StateStoreMode.DData,
            RememberEntities = false,
            ShouldPassivateIdleEntities = true,
            PassivateIdleEntityAfter = idle,
        };
        var shardOptions = PassivatingAfter(entities.PassivateIdleAfter);
        var orderShardOptions = PassivatingAfter(entities.OrderPassivateIdleAfter);
        var snapshotEvery = persistence.SnapshotEvery;

        return builder
            .AddHocon($"akka.cluster.sharding.entity-restart-backoff = {(long)entities.RestartBackoff.TotalMilliseconds}ms", HoconAddMode.Prepend)
            .WithShardRegion<OrderRegion>(
                "order",
                id => FactoryProps.Of(() => new OrderActor(id, snapshotEvery)),
                EntityMessageExtractor.Orders(entities.NumberOfShards),
                orderShardOptions)
            .WithShardRegion<AccountRegion>(
                "account",
                id => FactoryProps.Of(() => new AccountActor(id, snapshotEvery)),
                EntityMessageExtractor.Accounts(entities.NumberOfShards),
                shardOptions)
            .WithShardRegion<OrderNumberRegion>(
                "order-number",
                day => FactoryProps.Of(() => new OrderNumberAllocator(day, orderNumbers)),
                EntityMessageExtractor.OrderNumbers(entities.NumberOfShards),
                shardOptions)
            .WithShardRegion<RejectionLogRegion>(
                "rejection-log",
                logId => FactoryProps.Of(() => new RejectionLogActor(logId, 1000)),
                EntityMessageExtractor.Rejections(entities.NumberOfShards),
                shardOptions);
    }
}
