using Akka.Configuration;
using Akka.Persistence.Sql;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;

namespace O2X.Actors.Tests;

/// <summary>Actor-system configuration for entity tests: the real SQLite journal in a temporary file and the
/// O2X serializer, with every message forced through serialization so an unserializable one fails the test.</summary>
internal static class EntityTestConfig
{
    public static Config SqliteJournal(string databaseFile)
    {
        var persistence = new PersistenceOptions { SqlitePath = databaseFile };
        DatabasePreparation.Prepare(persistence);
        return ConfigurationFactory.ParseString("""
            akka.loglevel = INFO
            akka.actor {
              serializers.o2x = "O2X.Actors.Serialization.O2XSerializer, O2X.Actors"
              serialization-bindings { "O2X.Actors.Serialization.IO2XMessage, O2X.Actors" = o2x }
              serialization-identifiers { "O2X.Actors.Serialization.O2XSerializer, O2X.Actors" = 4711 }
              serialize-messages = on
            }
            """)
            .WithFallback(SqlPersistenceConfig.Create(persistence))
            .WithFallback(SqlPersistence.DefaultConfiguration);
    }
}
