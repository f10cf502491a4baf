using O2X.Actors.Hosting;
using O2X.Actors.Messaging.Outbox;
using O2X.Host.Bindings;

namespace O2X.Host.Hosting;

/// <summary>Thrown at start-up when a setting is missing or wrong; the message names every offending key.</summary>
internal sealed class O2XConfigurationException(IReadOnlyList<string> problems)
    : Exception("O2X cannot start; fix these settings (appsettings.json or O2X__... environment variables):"
                + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>All typed options of a node, bound from configuration and validated together.</summary>
internal sealed record O2XSettings(
    NodeOptions Node,
    PersistenceOptions Persistence,
    EntityOptions Entities,
    IngestionOptions Ingestion,
    OutboxOptions Outbox,
    CatalogOptions Catalog,
    IReadOnlyDictionary<string, BindingOptions> Bindings,
    DeadLetterReprocessingOptions DeadLetters,
    AdminOptions Admin,
    TransportOptions Transports,
    IReadOnlyDictionary<string, DestinationOptions> DestinationTransports,
    RatingOptions Rating,
    UsageFileOptions UsageFiles,
    BillingOptions Billing,
    OrdersOptions Orders)
{
    public const string BindingsSection = "O2X:Bindings";

    /// <summary>Every outbound destination this node writes to (the outbox API lists these).</summary>
    public IReadOnlySet<string> OutboundDestinations { get; } = DestinationsOf(Bindings);

    /// <summary>Seed §3.1's destinations plus the error and dead-letter destinations of the enabled bindings.</summary>
    private static HashSet<string> DestinationsOf(IReadOnlyDictionary<string, BindingOptions> bindings) => Destinations.All
        .Concat(bindings.Values.Where(b => b.Enabled).SelectMany(b => new[] { b.ErrorDestination, b.DeadLetterDestination }).OfType<string>())
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
        var transports = Bind<TransportOptions>(configuration, TransportOptions.Section, problems);
        var rating = Bind<RatingOptions>(configuration, RatingOptions.Section, problems);
        problems.AddRange(rating.Validate());
        var billing = Bind<BillingOptions>(configuration, BillingOptions.Section, problems);
        problems.AddRange(billing.Validate());
        var orders = Bind<OrdersOptions>(configuration, OrdersOptions.Section, problems);
        problems.AddRange(orders.Validate());
        var usageFiles = Bind<UsageFileOptions>(configuration, UsageFileOptions.Section, problems);
        problems.AddRange(usageFiles.Validate());
        var destinations = BindDestinations(configuration, bindings, problems);
        problems.AddRange(bindings.Where(b => b.Value.Enabled && b.Value.Transport == TransportKind.Smtp)
            .Select(b => $"{BindingsSection}:{b.Key}:Transport Smtp sends e-mail; a queue cannot be consumed from it."));
        var used = bindings.Values.Where(b => b.Enabled).Select(b => b.Transport)
            .Concat(destinations.Values.Select(d => d.Transport)).ToHashSet();
        problems.AddRange(transports.Validate(used));
        problems.AddRange(node.Validate());
        problems.AddRange(persistence.Validate());
        problems.AddRange(entities.Validate());
        problems.AddRange(ingestion.Validate());
        problems.AddRange(outbox.Validate());
        problems.AddRange(catalog.Validate());
        problems.AddRange(deadLetters.Validate());
        problems.AddRange(admin.Validate());
        if (problems.Count > 0) throw new O2XConfigurationException(problems);
        return new O2XSettings(node, persistence, entities, ingestion, outbox, catalog, bindings, deadLetters, admin, transports, destinations, rating,
            usageFiles, billing, orders);
    }

    /// <summary>
    /// Each known queue's default binding with what <c>O2X:Bindings:{QUEUE}</c> changes, plus custom queues
    /// (seed §3.3): any other entry under <c>O2X:Bindings</c>, which must name its handler.
    /// </summary>
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
        {
            var section = $"{BindingsSection}:{child.Key}";
            if (!Actors.Messaging.EntityIds.IsValid(child.Key))
            {
                problems.Add($"{section}: '{child.Key}' is not a valid queue name ({Actors.Messaging.EntityIds.Rule}).");
                continue;
            }

            var options = Bind(configuration, section, problems, QueueNames.CustomDefaults(child.Key));
            problems.AddRange(options.Validate(section));
            if (options.Handler is null)
                problems.Add($"{section}:Handler is required: {child.Key} is not a queue O2X defines (its own: {string.Join(", ", QueueNames.Defaults.Keys)}).");
            bindings[child.Key] = options;
        }

        foreach (var (queue, options) in bindings)
            if (options.Handler is { } handler && !QueueHandlers.IsKnown(handler))
                problems.Add($"{BindingsSection}:{queue}:Handler '{handler}' is not a registered handler (known: {string.Join(", ", QueueHandlers.Names)}).");
        return bindings;
    }

    /// <summary><c>O2X:Destinations:{NAME}</c> for the outbound destinations this node writes to; unknown names are errors.</summary>
    private static Dictionary<string, DestinationOptions> BindDestinations(
        IConfiguration configuration, IReadOnlyDictionary<string, BindingOptions> bindings, List<string> problems)
    {
        var known = DestinationsOf(bindings);
        var destinations = new Dictionary<string, DestinationOptions>(StringComparer.Ordinal);
        foreach (var child in configuration.GetSection(DestinationOptions.Section).GetChildren())
        {
            var section = $"{DestinationOptions.Section}:{child.Key}";
            if (!known.Contains(child.Key))
            {
                problems.Add($"{section} is not a destination this node writes to (known: {string.Join(", ", known.Order(StringComparer.Ordinal))}).");
                continue;
            }

            var options = Bind<DestinationOptions>(configuration, section, problems);
            if (options.Address is not null && string.IsNullOrWhiteSpace(options.Address)) problems.Add($"{section}:Address must not be blank.");
            if (options.Transport == TransportKind.Smtp && child.Key != Destinations.Invoice)
                problems.Add($"{section}:Transport Smtp is for the {Destinations.Invoice} destination only (it e-mails invoices).");
            if (options.Transport != TransportKind.Embedded) destinations[child.Key] = options;
        }

        return destinations;
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
