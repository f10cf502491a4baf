using LinqToDB;
using LinqToDB.Data;
using O2X.Actors.Hosting;

namespace O2X.Actors.Persistence;

/// <summary>
/// linq2db access to O2X's own tables (outbox, projection offsets, …), which live in the same database as
/// the journal so one backup covers everything.
/// </summary>
public sealed class O2XDatabase
{
    private readonly DataOptions _options;

    public O2XDatabase(PersistenceOptions persistence)
    {
        Provider = persistence.EffectiveProvider;
        _options = new DataOptions().UseConnectionString(SqlPersistenceConfig.ProviderName(Provider), persistence.EffectiveConnectionString);
    }

    public PersistenceProvider Provider { get; }

    public DataConnection Open() => new(_options);
}
