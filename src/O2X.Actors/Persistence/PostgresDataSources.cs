using Npgsql;

namespace O2X.Actors.Persistence;

/// <summary>
/// Npgsql data sources for O2X's own statements: the same few statements run thousands of times a second,
/// so they are prepared automatically (planned once per connection), and pooled connections are not reset
/// on return (O2X never changes session state). Each pool names its connections (<c>application_name</c>, unless the
/// connection string sets one), so <c>pg_stat_activity</c> shows which part of a node holds them.
/// </summary>
internal static class PostgresDataSources
{
    /// <param name="purpose">What the pool is for: <c>journal</c>, <c>snapshots</c>, <c>projection</c>.</param>
    public static NpgsqlDataSource Create(string connectionString, string purpose) =>
        NpgsqlDataSource.Create(Prepared(connectionString, purpose));

    private static string Prepared(string connectionString, string purpose)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 32;
        builder.NoResetOnClose = true;
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "o2x-" + purpose;
        return builder.ConnectionString;
    }

    /// <summary><paramref name="connectionString"/> with <c>application_name</c> <c>o2x-<paramref name="purpose"/></c>, unless it sets one.</summary>
    public static string Named(string connectionString, string purpose)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.ApplicationName)) return connectionString;
        builder.ApplicationName = "o2x-" + purpose;
        return builder.ConnectionString;
    }
}
