using Akka.Actor;
using Akka.Hosting;
using O2X.Actors.Messaging.Rejections;
using O2X.Actors.Sharding;

namespace O2X.Host.Hosting;

/// <summary>The node's shard regions by entity type name (for the sharding API and the entity gauge).</summary>
internal static class ShardRegions
{
    public static IEnumerable<(string Type, IActorRef Region)> Started(IReadOnlyActorRegistry registry)
    {
        if (registry.TryGet<OrderRegion>(out var orders)) yield return ("order", orders);
        if (registry.TryGet<AccountRegion>(out var accounts)) yield return ("account", accounts);
        if (registry.TryGet<OrderNumberRegion>(out var numbers)) yield return ("order-number", numbers);
        if (registry.TryGet<RejectionLogRegion>(out var rejections)) yield return ("rejection-log", rejections);
    }
}
