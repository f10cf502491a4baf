using Akka.Actor;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;
using O2X.Actors.Sharding;

namespace O2X.Actors.Hosting;

/// <summary>
/// What a queue handler may use: the queue it serves, the entity regions, the catalog, the ask timeout, the node's
/// database and where CDR files may be read from.
/// </summary>
public sealed record HandlerContext(string Queue, ActorSystem System, EntityRegions Regions, ProductCatalog Catalog, TimeSpan AskTimeout, O2XDatabase Database,
    UsageFileOptions Files);
