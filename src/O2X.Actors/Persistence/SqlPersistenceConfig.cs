using System.Text;
using Akka.Configuration;
using O2X.Actors.Hosting;

namespace O2X.Actors.Persistence;

/// <summary>
/// The HOCON Akka.Persistence.Sql needs (journal, snapshot store, read journal), generated from
/// <see cref="PersistenceOptions"/> — the typed options stay the one place of truth.
/// </summary>
public static class SqlPersistenceConfig
{
    public const string JournalPluginId = "akka.persistence.journal.sql";
    public const string SnapshotPluginId = "akka.persistence.snapshot-store.sql";
    public const string ReadJournalPluginId = "akka.persistence.query.journal.sql";

    public static Config Create(PersistenceOptions options, TimeSpan? queryRefreshInterval = null)
    {
        var connection = Quote(options.EffectiveConnectionString);
        var provider = Quote(ProviderName(options.EffectiveProvider));
        var hocon = new StringBuilder()
            .AppendLine("akka.persistence {")
            .AppendLine($"  journal.plugin = \"{JournalPluginId}\"")
            .AppendLine($"  snapshot-store.plugin = \"{SnapshotPluginId}\"")
            .AppendLine("  journal.sql {")
            .AppendLine($"    connection-string = {connection}")
            .AppendLine($"    provider-name = {provider}")
            .AppendLine("    auto-initialize = on")
            .AppendLine("    warn-on-auto-init-fail = off")
            .AppendLine("    tag-write-mode = TagTable")
            .AppendLine("    event-adapters { outbox-tagger = \"O2X.Actors.Messaging.Outbox.OutboxTagger, O2X.Actors\" }")
            .AppendLine("    event-adapter-bindings { \"O2X.Actors.Serialization.IO2XMessage, O2X.Actors\" = outbox-tagger }")
            .AppendLine("  }")
            .AppendLine("  snapshot-store.sql {")
            .AppendLine($"    connection-string = {connection}")
            .AppendLine($"    provider-name = {provider}")
            .AppendLine("    auto-initialize = on")
            .AppendLine("    warn-on-auto-init-fail = off")
            .AppendLine("  }")
            .AppendLine("  query.journal.sql {")
            .AppendLine($"    connection-string = {connection}")
            .AppendLine($"    provider-name = {provider}")
            .AppendLine($"    write-plugin = \"{JournalPluginId}\"")
            .AppendLine("    tag-read-mode = TagTable")
            .AppendLine($"    refresh-interval = {(int)(queryRefreshInterval ?? TimeSpan.FromSeconds(1)).TotalMilliseconds}ms")
            .AppendLine("  }")
            .AppendLine("}")
            .ToString();
        return ConfigurationFactory.ParseString(hocon);
    }

    /// <summary>linq2db provider names (pinned versions avoid provider auto-detection at start-up).</summary>
    public static string ProviderName(PersistenceProvider provider) => provider switch
    {
        PersistenceProvider.Sqlite => "SQLite.MS",
        PersistenceProvider.PostgreSql => "PostgreSQL.15",
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, null),
    };

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
