using System.Reflection;
using O2X.Actors.Hosting;
using O2X.Actors.Orders;
using O2X.Actors.Messaging;

namespace O2X.Host.Bindings;

/// <summary>
/// The handlers queue bindings can name: O2X's own (<see cref="OmsReceiver"/>, <see cref="OrderUpdater"/>) and
/// every class marked <see cref="QueueHandlerAttribute"/> in the loaded assemblies that reference O2X.Actors (where the handler contract lives).
/// A custom queue (seed §3.3) is a configuration entry plus such a class.
/// </summary>
internal static class QueueHandlers
{
    public const string OmsReceiver = "OmsReceiver";
    public const string OrderUpdater = "OrderUpdater";

    private static readonly Lazy<IReadOnlyDictionary<string, Func<HandlerContext, IMessageHandler>>> Registry = new(Discover);

    public static IEnumerable<string> Names => Registry.Value.Keys.Order(StringComparer.Ordinal);

    public static bool IsKnown(string name) => Registry.Value.ContainsKey(name);

    /// <summary>The handler registered as <paramref name="name"/>, behind the card-data guard every queue has.</summary>
    public static IMessageHandler Create(string name, HandlerContext context) =>
        Registry.Value.TryGetValue(name, out var factory)
            ? new Actors.Messaging.CardDataGuard(factory(context))
            : throw new InvalidOperationException($"No queue handler is registered as '{name}'.");

    private static IReadOnlyDictionary<string, Func<HandlerContext, IMessageHandler>> Discover()
    {
        var registry = new Dictionary<string, Func<HandlerContext, IMessageHandler>>(StringComparer.Ordinal)
        {
            [OmsReceiver] = c => new OmsReceiver(c.Regions, c.Catalog, c.AskTimeout,
                O2X.Actors.Persistence.FreshEntities.For(c.System), O2X.Actors.Persistence.Journal.FirstWrites.For(c.System)),
            [OrderUpdater] = c => new OrderUpdater(c.Regions, c.AskTimeout),
            [Actors.Usage.UsageProcessor.HandlerName] = c =>
                new Actors.Usage.UsageProcessor(new Actors.Usage.UsageRater(c.Database, Actors.Usage.RatingCatalog.Default)),
            [Actors.Usage.PriceSyncProcessor.HandlerName] = c =>
                new Actors.Usage.PriceSyncProcessor(new Actors.Usage.PricePlanStore(c.Database), Actors.Usage.RatingCatalog.Default),
            [Actors.Bulk.BulkProcessor.HandlerName] = c => new Actors.Bulk.BulkProcessor(new Actors.Bulk.BulkStore(c.Database), c.Regions.Accounts, c.AskTimeout),
            [Actors.Usage.MediationProcessor.HandlerName] = c =>
                new Actors.Usage.MediationProcessor(new Actors.Usage.UsageStore(c.Database), Actors.Usage.UsageParsers.Default, new Actors.Usage.UsageFileReaders(c.Files)),
        };

        var contract = typeof(IMessageHandler).Assembly.GetName().Name;
        var candidates = AppDomain.CurrentDomain.GetAssemblies()
            .Append(typeof(QueueHandlers).Assembly)
            .Distinct()
            .Where(a => !a.IsDynamic && (a == typeof(IMessageHandler).Assembly || a.GetReferencedAssemblies().Any(r => r.Name == contract)));
        foreach (var assembly in candidates)
        {
            foreach (var type in LoadableTypes(assembly))
            {
                if (type.GetCustomAttribute<QueueHandlerAttribute>() is not { } attribute) continue;
                if (!typeof(IMessageHandler).IsAssignableFrom(type) || type.IsAbstract)
                    throw new InvalidOperationException($"{type.FullName} is marked [QueueHandler] but is not a concrete IMessageHandler.");
                if (!registry.TryAdd(attribute.Name, FactoryFor(type)))
                    throw new InvalidOperationException($"Queue handler name '{attribute.Name}' is registered twice (again by {type.FullName}).");
            }
        }

        return registry;
    }

    private static Func<HandlerContext, IMessageHandler> FactoryFor(Type type)
    {
        if (type.GetConstructor([typeof(HandlerContext)]) is { } withContext)
            return c => (IMessageHandler)withContext.Invoke([c]);
        if (type.GetConstructor(Type.EmptyTypes) is { } parameterless)
            return _ => (IMessageHandler)parameterless.Invoke([]);
        throw new InvalidOperationException($"Queue handler {type.FullName} needs a public constructor taking HandlerContext, or a parameterless one.");
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }
}
