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
    private volatile bool _schemaReady;

    public O2XDatabase(PersistenceOptions persistence)
    {
        Provider = persistence.EffectiveProvider;
        _options = new DataOptions().UseConnectionString(SqlPersistenceConfig.ProviderName(Provider), persistence.EffectiveConnectionString);
    }

    public PersistenceProvider Provider { get; }

    /// <summary>
    /// A connection to the database; O2X's tables are created on first use (and again after a failure, e.g.
    /// the database was down at start).
    /// </summary>
    public async Task<DataConnection> OpenAsync(CancellationToken ct = default)
    {
        var db = new DataConnection(_options);
        if (_schemaReady) return db;
        try
        {
            await O2XTables.CreateAsync(db, ct);
            _schemaReady = true;
            return db;
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }
}
