using System.Text;
using Akka.Configuration;
using O2X.Actors.Hosting;

namespace O2X.Actors.Persistence;

/// <summary>
/// The HOCON Akka.Persistence.Sql needs (journal, snapshot store, read journal), generated from
/// <see cref="PersistenceOptions"/> — the typed options stay the one place of truth.
/// </summary>
internal static class SqlPersistenceConfig
{
    /// <summary>Akka.Persistence.Sql's journal: creates the tables; the write journal when configured so.</summary>
    public const string JournalPluginId = "akka.persistence.journal.sql";

    /// <summary>O2X's group-commit journal on the same tables.</summary>
    public const string BatchingJournalPluginId = "akka.persistence.journal.o2x";

    /// <summary>O2X's snapshot store on Akka.Persistence.Sql's snapshot table.</summary>
    public const string O2XSnapshotPluginId = "akka.persistence.snapshot-store.o2x";
    public const string SnapshotPluginId = "akka.persistence.snapshot-store.sql";
    public const string ReadJournalPluginId = "akka.persistence.query.journal.sql";

    public static Config Create(PersistenceOptions options, TimeSpan? queryRefreshInterval = null)
    {
        var connection = Quote(options.EffectiveConnectionString);
        var provider = Quote(ProviderName(options.EffectiveProvider));
        const string adapters =
            "    event-adapters { outbox-tagger = \"O2X.Actors.Messaging.Outbox.OutboxTagger, O2X.Actors\" }\n" +
            "    event-adapter-bindings { \"O2X.Actors.Serialization.IO2XMessage, O2X.Actors\" = outbox-tagger }";
        var ownPlugins = options.Journal == JournalKind.Batching;
        var writeJournal = ownPlugins ? BatchingJournalPluginId : JournalPluginId;
        var snapshotStore = ownPlugins ? O2XSnapshotPluginId : SnapshotPluginId;
        var providerKey = options.EffectiveProvider == PersistenceProvider.Sqlite ? "sqlite" : "postgresql";
        // Every plugin's circuit breaker: Akka's max-failures and call-timeout, O2X's reset timeout (PersistenceOptions).
        var breaker = $"    circuit-breaker.reset-timeout = {(long)options.BreakerResetTimeout.TotalMilliseconds}ms";
        var hocon = new StringBuilder()
            .AppendLine("akka.persistence {")
            .AppendLine($"  journal.plugin = \"{writeJournal}\"")
            .AppendLine($"  snapshot-store.plugin = \"{snapshotStore}\"")
            .AppendLine("  journal.sql {")
            .AppendLine($"    connection-string = {connection}")
            .AppendLine($"    provider-name = {provider}")
            .AppendLine(breaker)
            .AppendLine("    auto-initialize = on")
            .AppendLine("    warn-on-auto-init-fail = off")
            .AppendLine("    tag-write-mode = TagTable")
            .AppendLine(adapters)
            .AppendLine("  }")
            .AppendLine("  journal.o2x {")
            .AppendLine("    class = \"O2X.Actors.Persistence.Journal.BatchingSqlJournal, O2X.Actors\"")
            .AppendLine("    plugin-dispatcher = \"akka.actor.default-dispatcher\"")
            .AppendLine($"    connection-string = {connection}")
            .AppendLine($"    provider = {providerKey}")
            .AppendLine(breaker)
            .AppendLine($"    max-batch-rows = {options.MaxBatchRows}")
            .AppendLine($"    sqlite-synchronous = {options.SqliteSynchronous.ToString().ToUpperInvariant()}")
            .AppendLine($"    schema-plugin = \"{JournalPluginId}\"")
            // Akka's replay filter (a child actor per recovery) repairs journals where two writers interleaved one
            // entity's events. This journal cannot hold that: (persistence_id, sequence_number) is unique, so the second
            // writer's write fails. Every new order recovers once, and the filter cost ~2% of the node's CPU.
            .AppendLine("    replay-filter.mode = off")
            .AppendLine(adapters)
            .AppendLine("  }")
            .AppendLine("  snapshot-store.o2x {")
            .AppendLine("    class = \"O2X.Actors.Persistence.Snapshots.SqlSnapshotStore, O2X.Actors\"")
            .AppendLine("    plugin-dispatcher = \"akka.actor.default-dispatcher\"")
            .AppendLine($"    connection-string = {connection}")
            .AppendLine($"    provider = {providerKey}")
            .AppendLine(breaker)
            .AppendLine($"    schema-plugin = \"{SnapshotPluginId}\"")
            .AppendLine("  }")
            .AppendLine("  snapshot-store.sql {")
            .AppendLine($"    connection-string = {connection}")
            .AppendLine($"    provider-name = {provider}")
            .AppendLine(breaker)
            .AppendLine("    auto-initialize = on")
            .AppendLine("    warn-on-auto-init-fail = off")
            .AppendLine("  }")
            .AppendLine("  query.journal.sql {")
            .AppendLine($"    connection-string = {connection}")
            .AppendLine($"    provider-name = {provider}")
            .AppendLine($"    write-plugin = \"{JournalPluginId}\"")
            .AppendLine("    tag-read-mode = TagTable")
            // Microsoft.Data.Sqlite begins transactions as BEGIN IMMEDIATE (taking SQLite's only write lock) unless
            // they are read-uncommitted, which it begins DEFERRED; the projection's polling must not block the journal.
            .AppendLine(options.EffectiveProvider == PersistenceProvider.Sqlite ? "    read-isolation-level = read-uncommitted" : "")
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
