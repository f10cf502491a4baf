using Npgsql;

namespace O2X.Actors.Persistence;

/// <summary>
/// Npgsql data sources for O2X's own statements: the same few statements run thousands of times a second,
/// so they are prepared automatically (planned once per connection), and pooled connections are not reset
/// on return (O2X never changes session state).
/// </summary>
internal static class PostgresDataSources
{
    public static NpgsqlDataSource Create(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 32;
        builder.NoResetOnClose = true;
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
