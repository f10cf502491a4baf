using System.Data.Common;

namespace O2X.Actors.Hosting;

public enum PersistenceProvider { Sqlite, PostgreSql }

/// <summary>Which write journal persists events. Both use Akka.Persistence.Sql's tables, so switching needs no migration.</summary>
public enum JournalKind
{
    /// <summary>O2X's group-commit journal (default): one transaction for all writes pending at once.</summary>
    Batching,

    /// <summary>Akka.Persistence.Sql's own journal.</summary>
    AkkaPersistenceSql,
}

/// <summary>SQLite <c>PRAGMA synchronous</c> for journal writes.</summary>
public enum SqliteSynchronous
{
    /// <summary>Every commit is fsynced: durable across power loss (default).</summary>
    Full,

    /// <summary>With WAL: durable across process crashes; the last commits may be lost on power loss.</summary>
    Normal,
}

/// <summary>Where the journal and snapshots live (<c>O2X:Persistence</c>).</summary>
public sealed class PersistenceOptions
{
    public const string Section = "O2X:Persistence";

    /// <summary><c>Sqlite</c> or <c>PostgreSql</c>. Unset: PostgreSql when <see cref="ConnectionString"/> is set, else Sqlite.</summary>
    public PersistenceProvider? Provider { get; set; }

    /// <summary>ADO.NET connection string; required for PostgreSql. Never logged (see <see cref="Describe"/>).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>SQLite database file used when no connection string is given; created on first run.</summary>
    public string SqlitePath { get; set; } = "data/o2x.db";

    /// <summary>Events between snapshots of an entity.</summary>
    public int SnapshotEvery { get; set; } = 100;

    /// <summary>The write journal (<see cref="JournalKind"/>).</summary>
    public JournalKind Journal { get; set; } = JournalKind.Batching;

    /// <summary>Largest group commit of the batching journal, in events.</summary>
    public int MaxBatchRows { get; set; } = 1000;

    /// <summary>SQLite durability of journal commits.</summary>
    public SqliteSynchronous SqliteSynchronous { get; set; } = SqliteSynchronous.Full;

    /// <summary>
    /// How long the journal and the snapshot store fail fast, after repeated database failures, before one call tries the
    /// database again (Akka.Persistence's circuit breaker of each plugin). Akka's defaults, 30 s for the journal and 60 s for
    /// the snapshot store, left entities unable to recover or persist for up to a minute after the database was back.
    /// </summary>
    public TimeSpan BreakerResetTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public PersistenceProvider EffectiveProvider =>
        Provider ?? (string.IsNullOrWhiteSpace(ConnectionString) ? PersistenceProvider.Sqlite : PersistenceProvider.PostgreSql);

    /// <summary>The connection string to use (for SQLite built from <see cref="SqlitePath"/> unless given).</summary>
    public string EffectiveConnectionString =>
        !string.IsNullOrWhiteSpace(ConnectionString)
            ? ConnectionString
            : $"Data Source={Path.GetFullPath(SqlitePath)};Pooling=True";

    public IEnumerable<string> Validate()
    {
        if (EffectiveProvider == PersistenceProvider.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
            yield return $"{Section}:ConnectionString is required when {Section}:Provider is PostgreSql.";
        if (EffectiveProvider == PersistenceProvider.Sqlite && string.IsNullOrWhiteSpace(ConnectionString) && string.IsNullOrWhiteSpace(SqlitePath))
            yield return $"{Section}:SqlitePath must be set (or {Section}:ConnectionString).";
        if (ConnectionString is not null)
        {
            string? problem = null;
            try
            {
                _ = new DbConnectionStringBuilder { ConnectionString = ConnectionString };
            }
            catch (ArgumentException ex)
            {
                problem = ex.Message;
            }

            if (problem is not null) yield return $"{Section}:ConnectionString is not a valid connection string: {problem}";
        }

        if (SnapshotEvery < 1)
            yield return $"{Section}:SnapshotEvery must be at least 1 (was {SnapshotEvery}).";
        if (MaxBatchRows is < 1 or > 10_000)
            yield return $"{Section}:MaxBatchRows must be between 1 and 10000 (was {MaxBatchRows}).";
        if (BreakerResetTimeout < TimeSpan.FromMilliseconds(100) || BreakerResetTimeout > TimeSpan.FromMinutes(10))
            yield return $"{Section}:BreakerResetTimeout must be between 00:00:00.1 and 00:10:00 (was {BreakerResetTimeout}).";
    }

    /// <summary>Provider and location for logs, with passwords and other secrets removed.</summary>
    public string Describe()
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = EffectiveConnectionString };
        foreach (var key in builder.Keys.Cast<string>().ToArray())
        {
            if (key.Contains("password", StringComparison.OrdinalIgnoreCase) || key.Equals("pwd", StringComparison.OrdinalIgnoreCase)
                || key.Contains("secret", StringComparison.OrdinalIgnoreCase) || key.Contains("token", StringComparison.OrdinalIgnoreCase))
                builder.Remove(key);
        }

        return $"{EffectiveProvider} ({builder.ConnectionString})";
    }
}
