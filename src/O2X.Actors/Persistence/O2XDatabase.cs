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
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private volatile bool _schemaReady;

    public O2XDatabase(PersistenceOptions persistence)
    {
        Provider = persistence.EffectiveProvider;
        ConnectionString = persistence.EffectiveConnectionString;
        _options = new DataOptions().UseConnectionString(SqlPersistenceConfig.ProviderName(Provider),
            Provider == PersistenceProvider.Sqlite ? ConnectionString : PostgresDataSources.Named(ConnectionString, "tables"));
        // SQLite has one writer at a time (the journal's, mostly): wait for its lock the way the journal's connections do.
        if (Provider == PersistenceProvider.Sqlite)
            _options = _options.UseAfterConnectionOpened(SqliteConnections.WaitForLocks, SqliteConnections.WaitForLocksAsync);
    }

    public PersistenceProvider Provider { get; }

    /// <summary>The database's connection string (never logged): also the key of its journal writer (<c>JournalWriters</c>).</summary>
    internal string ConnectionString { get; }

    /// <summary>
    /// A connection to the database; O2X's tables are created on first use (and again after a failure, e.g.
    /// the database was down at start) — once at a time: concurrent <c>CREATE TABLE IF NOT EXISTS</c> of the same table
    /// fails on PostgreSQL (duplicate pg_type row), so callers in this process queue on a lock, and nodes sharing a
    /// database on a transaction-scoped advisory lock.
    /// </summary>
    public async Task<DataConnection> OpenAsync(CancellationToken ct = default)
    {
        var db = new DataConnection(_options);
        if (_schemaReady) return db;
        try
        {
            await _schemaLock.WaitAsync(ct);
            try
            {
                if (!_schemaReady)
                {
                    await CreateSchemaAsync(db, ct);
                    _schemaReady = true;
                }
            }
            finally
            {
                _schemaLock.Release();
            }

            return db;
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The text linq2db writes for a <see cref="DateTime"/> on SQLite, for O2X's own prepared statements, so rows read back
    /// and compare alike whoever wrote them.
    /// </summary>
    internal static string SqliteDateTime(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A UTC time as O2X's PostgreSQL columns (<c>timestamp without time zone</c>) hold it, as linq2db writes it: Npgsql accepts
    /// only an unspecified kind for that type.
    /// </summary>
    internal static DateTime PostgresTimestamp(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Unspecified);

    /// <summary>A PostgreSQL <c>text[]</c> parameter, for O2X's own statements that take a batch's values as arrays (<c>unnest</c>).</summary>
    internal static Npgsql.NpgsqlParameter<string?[]> PostgresTexts(string name, IEnumerable<string?> values) =>
        new(name, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { TypedValue = [.. values] };

    /// <summary>
    /// Serialises writers of the outbox until their transaction ends (PostgreSQL; SQLite has one writer anyway).
    /// The relay reads a destination by position, so a row must never become visible after a row with a higher
    /// position that the relay may already have passed: with concurrent writers (the projection, dead-letter copies)
    /// an identity value taken first could otherwise be committed last, and skipped.
    /// </summary>
    public async Task LockOutboxAsync(DataConnection db, CancellationToken ct)
    {
        if (Provider == PersistenceProvider.PostgreSql) await db.ExecuteAsync(LockOutboxSql, ct);
    }

    /// <summary>The statement of <see cref="LockOutboxAsync"/>, for a batch of statements that holds it.</summary>
    internal const string LockOutboxSql = "SELECT pg_advisory_xact_lock(4711021)";

    /// <summary>
    /// PostgreSQL: runs the statements <paramref name="add"/> puts in one batch, on <paramref name="db"/>'s connection and in its
    /// transaction (one round trip), reading through every result so that any statement's failure is thrown here.
    /// </summary>
    internal static async Task RunPostgresBatchAsync(DataConnection db, Action<Npgsql.NpgsqlBatch> add, CancellationToken ct)
    {
        var connection = (Npgsql.NpgsqlConnection)await db.OpenDbConnectionAsync(ct);
        await using var batch = new Npgsql.NpgsqlBatch(connection, (Npgsql.NpgsqlTransaction?)db.Transaction);
        add(batch);
        await Journal.PostgresBatches.RunAsync(batch, [], ct);
    }

    /// <summary>
    /// On SQLite, this database's turn to write among O2X's busy writers in this process (<see cref="SqliteWriteGate"/>), taken
    /// before the transaction begins and given back once it has ended; nothing to wait for on PostgreSQL.
    /// </summary>
    internal async ValueTask<IDisposable?> EnterWriteAsync(CancellationToken ct) =>
        Provider == PersistenceProvider.Sqlite ? await SqliteWriteGate.EnterAsync(ConnectionString, ct) : null;

    private async Task CreateSchemaAsync(DataConnection db, CancellationToken ct)
    {
        if (Provider != PersistenceProvider.PostgreSql)
        {
            await O2XTables.CreateAsync(db, ct);
            return;
        }

        await using var transaction = await db.BeginTransactionAsync(ct);
        await db.ExecuteAsync("SELECT pg_advisory_xact_lock(4711020)", ct);
        await O2XTables.CreateAsync(db, ct);
        await transaction.CommitAsync(ct);
    }
}
