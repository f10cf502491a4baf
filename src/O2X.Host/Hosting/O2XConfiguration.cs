using O2X.Actors.Hosting;
using O2X.Actors.Messaging.Outbox;
using O2X.Host.Ingestion;

namespace O2X.Host.Hosting;

/// <summary>Thrown at start-up when a setting is missing or wrong; the message names every offending key.</summary>
public sealed class O2XConfigurationException(IReadOnlyList<string> problems)
    : Exception("O2X cannot start; fix these settings (appsettings.json or O2X__... environment variables):"
                + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>All typed options of a node, bound from configuration and validated together.</summary>
public sealed record O2XSettings(
    NodeOptions Node,
    PersistenceOptions Persistence,
    EntityOptions Entities,
    IngestionOptions Ingestion,
    OutboxOptions Outbox,
    CatalogOptions Catalog,
    IReadOnlyDictionary<string, BindingOptions> Bindings,
    DeadLetterReprocessingOptions DeadLetters,
    AdminOptions Admin)
{
    public const string BindingsSection = "O2X:Bindings";

    /// <summary>Every outbound destination this node writes to (the outbox API lists these).</summary>
    public IReadOnlySet<string> OutboundDestinations { get; } = Destinations.All
        .Concat(Bindings.Values.Where(b => b.Enabled).SelectMany(b => new[] { b.ErrorDestination, b.DeadLetterDestination }).OfType<string>())
        .ToHashSet(StringComparer.Ordinal);

    public static O2XSettings Load(IConfiguration configuration)
    {
        var problems = new List<string>();
        var node = Bind<NodeOptions>(configuration, NodeOptions.Section, problems);
        var persistence = Bind<PersistenceOptions>(configuration, PersistenceOptions.Section, problems);
        var entities = Bind<EntityOptions>(configuration, EntityOptions.Section, problems);
        var ingestion = Bind<IngestionOptions>(configuration, IngestionOptions.Section, problems);
        var outbox = Bind<OutboxOptions>(configuration, OutboxOptions.Section, problems);
        var catalog = Bind<CatalogOptions>(configuration, CatalogOptions.Section, problems);
        var deadLetters = Bind<DeadLetterReprocessingOptions>(configuration, DeadLetterReprocessingOptions.Section, problems);
        var admin = Bind<AdminOptions>(configuration, AdminOptions.Section, problems);
        var bindings = BindBindings(configuration, problems);
        problems.AddRange(node.Validate());
        problems.AddRange(persistence.Validate());
        problems.AddRange(entities.Validate());
        problems.AddRange(ingestion.Validate());
        problems.AddRange(outbox.Validate());
        problems.AddRange(catalog.Validate());
        problems.AddRange(deadLetters.Validate());
        problems.AddRange(admin.Validate());
        if (problems.Count > 0) throw new O2XConfigurationException(problems);
        return new O2XSettings(node, persistence, entities, ingestion, outbox, catalog, bindings, deadLetters, admin);
    }

    /// <summary>Each known queue's default binding, with what <c>O2X:Bindings:{QUEUE}</c> changes.</summary>
    private static Dictionary<string, BindingOptions> BindBindings(IConfiguration configuration, List<string> problems)
    {
        var bindings = new Dictionary<string, BindingOptions>(StringComparer.Ordinal);
        foreach (var (queue, defaults) in QueueNames.Defaults)
        {
            var section = $"{BindingsSection}:{queue}";
            var options = Bind(configuration, section, problems, defaults());
            problems.AddRange(options.Validate(section));
            bindings[queue] = options;
        }

        foreach (var child in configuration.GetSection(BindingsSection).GetChildren().Where(c => !QueueNames.Defaults.ContainsKey(c.Key)))
            problems.Add($"{BindingsSection}:{child.Key} is not a queue this node knows (known: {string.Join(", ", QueueNames.Defaults.Keys)}).");
        return bindings;
    }

    private static T Bind<T>(IConfiguration configuration, string section, List<string> problems, T? defaults = null) where T : class, new()
    {
        var options = defaults ?? new T();
        try
        {
            // Unknown keys are errors: a typo must not silently fall back to a default.
            configuration.GetSection(section).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            problems.Add($"{section}: {ex.Message}");
        }

        return options;
    }
}
