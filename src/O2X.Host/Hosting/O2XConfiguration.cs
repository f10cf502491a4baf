using O2X.Actors.Hosting;

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
    CatalogOptions Catalog)
{
    public static O2XSettings Load(IConfiguration configuration)
    {
        var problems = new List<string>();
        var node = Bind<NodeOptions>(configuration, NodeOptions.Section, problems);
        var persistence = Bind<PersistenceOptions>(configuration, PersistenceOptions.Section, problems);
        var entities = Bind<EntityOptions>(configuration, EntityOptions.Section, problems);
        var ingestion = Bind<IngestionOptions>(configuration, IngestionOptions.Section, problems);
        var outbox = Bind<OutboxOptions>(configuration, OutboxOptions.Section, problems);
        var catalog = Bind<CatalogOptions>(configuration, CatalogOptions.Section, problems);
        problems.AddRange(node.Validate());
        problems.AddRange(persistence.Validate());
        problems.AddRange(entities.Validate());
        problems.AddRange(ingestion.Validate());
        problems.AddRange(outbox.Validate());
        problems.AddRange(catalog.Validate());
        if (problems.Count > 0) throw new O2XConfigurationException(problems);
        return new O2XSettings(node, persistence, entities, ingestion, outbox, catalog);
    }

    private static T Bind<T>(IConfiguration configuration, string section, List<string> problems) where T : new()
    {
        var options = new T();
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
