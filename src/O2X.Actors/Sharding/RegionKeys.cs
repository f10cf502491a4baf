namespace O2X.Actors.Sharding;

/// <summary>Registry key of the Order shard region (<c>IRequiredActor&lt;OrderRegion&gt;</c>).</summary>
internal sealed class OrderRegion;

/// <summary>Registry key of the Account shard region.</summary>
internal sealed class AccountRegion;

/// <summary>Registry key of the order-number allocator shard region.</summary>
internal sealed class OrderNumberRegion;

/// <summary>Registry key of the rejection-log (error queue) shard region.</summary>
internal sealed class RejectionLogRegion;

/// <summary>Registry key of the outbox projection singleton.</summary>
internal sealed class OutboxProjectionSingleton;
