using Akka.Configuration;
using Akka.Persistence.Sql;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;

namespace O2X.Actors.Tests;

/// <summary>Actor-system configuration for entity tests: the real SQLite journal in a temporary file and the
/// O2X serializer, with every message forced through serialization so an unserializable one fails the test.</summary>
internal static class EntityTestConfig
{
    public static Config SqliteJournal(string databaseFile) =>
        ConfigurationFactory.ParseString("akka.actor.serialize-messages = on").WithFallback(For(new PersistenceOptions { SqlitePath = databaseFile }));

    /// <summary>The node's persistence configuration for <paramref name="persistence"/>, with the O2X serializer.</summary>
    public static Config For(PersistenceOptions persistence)
    {
        DatabasePreparation.Prepare(persistence);
        return ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            # The first write of a test creates the journal tables and JITs the write path; on a loaded 2-core CI
            # machine that took over the 3 s default. Expectations still fail, just not on a cold start.
            akka.test.single-expect-default = 15s
            """ + "\n" + O2X.Actors.Serialization.O2XSerializer.Hocon)
            .WithFallback(SqlPersistenceConfig.Create(persistence, TimeSpan.FromMilliseconds(100)))
            .WithFallback(SqlPersistence.DefaultConfiguration);
    }
}
