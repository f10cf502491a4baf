using Akka.Actor;

namespace O2X.Actors.Sharding;

/// <summary>The shard regions (or proxies) handlers talk to.</summary>
public sealed record EntityRegions(IActorRef Orders, IActorRef Accounts, IActorRef OrderNumbers, IActorRef Rejections);
