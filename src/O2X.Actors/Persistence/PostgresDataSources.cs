using Npgsql;

namespace O2X.Actors.Persistence;

/// <summary>
/// Npgsql data sources for O2X's own statements: the same few statements run thousands of times a second,
/// so they are prepared automatically (planned once per connection), and pooled connections are not reset
/// on return (O2X never changes session state). Each pool names its connections (<c>application_name</c>, unless the
/// connection string sets one), so <c>pg_stat_activity</c> shows which part of a node holds them.
/// </summary>
/// <remarks>
/// Each pool holds at most <see cref="DefaultMaxPoolSize"/> connections unless the connection string says otherwise
/// (<c>Maximum Pool Size</c>); a caller that finds them all busy waits for one (Npgsql's <c>Timeout</c>, 15 s by default).
/// Npgsql's own default, 100 per pool, let a node's recovery storm (up to 50 entities recovering at once, each reading
/// the journal and the snapshots) open ~150 connections: more than a default PostgreSQL allows (100), and the integration
/// run's server refused connections ("too many clients").
/// </remarks>
internal static class PostgresDataSources
{
    public const int DefaultMaxPoolSize = 20;

    private static readonly string[] MaxPoolSizeKeys = ["Maximum Pool Size", "Max Pool Size", "MaxPoolSize"];

    /// <param name="purpose">What the pool is for: <c>journal</c>, <c>snapshots</c>, <c>projection</c>.</param>
    public static NpgsqlDataSource Create(string connectionString, string purpose)
    {
        var builder = new NpgsqlConnectionStringBuilder(Named(connectionString, purpose));
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 32;
        builder.NoResetOnClose = true;
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>
    /// <paramref name="connectionString"/> with <c>application_name</c> <c>o2x-<paramref name="purpose"/></c> and the pool
    /// bound, where it does not say otherwise (also for connections that do not come from <see cref="Create"/>).
    /// </summary>
    public static string Named(string connectionString, string purpose)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "o2x-" + purpose;
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!MaxPoolSizeKeys.Any(given.ContainsKey)) builder.MaxPoolSize = DefaultMaxPoolSize;
        return builder.ConnectionString;
    }
}
