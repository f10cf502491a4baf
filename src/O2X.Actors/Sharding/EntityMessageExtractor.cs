using Akka.Cluster.Sharding;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging.Rejections;
using O2X.Actors.Orders;

namespace O2X.Actors.Sharding;

/// <summary>
/// Routes messages to entities by the id they carry (<see cref="IWithOrderId"/>, <see cref="IWithAccountId"/>,
/// <see cref="IWithOrderDay"/>); the shard is a stable hash of the entity id.
/// </summary>
internal sealed class EntityMessageExtractor : HashCodeMessageExtractor
{
    private readonly Func<object, string?> _entityIdOf;

    private EntityMessageExtractor(int maxNumberOfShards, Func<object, string?> entityIdOf) : base(maxNumberOfShards)
        => _entityIdOf = entityIdOf;

    public static EntityMessageExtractor Orders(int shards) => new(shards, m => (m as IWithOrderId)?.OrderId);

    public static EntityMessageExtractor Accounts(int shards) => new(shards, m => (m as IWithAccountId)?.AccountId);

    public static EntityMessageExtractor OrderNumbers(int shards) => new(shards, m => (m as IWithOrderDay)?.Day);

    public static EntityMessageExtractor Rejections(int shards) => new(shards, m => (m as IWithRejectionLogId)?.LogId);

    public override string? EntityId(object message) => _entityIdOf(message);
}
