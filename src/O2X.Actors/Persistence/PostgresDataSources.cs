using Npgsql;

namespace O2X.Actors.Persistence;

/// <summary>
/// Npgsql data sources for O2X's own statements: the same few statements run thousands of times a second,
/// so they are prepared automatically (planned once per connection), and pooled connections are not reset
/// on return (O2X never changes session state). Each pool names its connections (<c>application_name</c>, unless the
/// connection string sets one), so <c>pg_stat_activity</c> shows which part of a node holds them.
/// </summary>
/// <remarks>
/// <para>
/// Every statement on these pools finds its rows by key (a persistence id, an order id, a day, an ordering range), and
/// their connections run with <c>enable_seqscan = off</c>, set as each connection opens (unless the connection string's
/// <c>Options</c> set <c>enable_seqscan</c> themselves).
/// A prepared statement may be given one plan for all its executions (PostgreSQL's generic plan), made from the table's
/// statistics at that moment and kept until they change. Made while a table was small — in a new database's first minute,
/// when autovacuum had analyzed the table only young — that plan was a scan of the whole table, and it stayed as the table
/// grew faster than autovacuum analyzed it again: a benchmark run's provisioning-watch delete took 3.6 ms instead of 0.04 in every group commit once ~60,000
/// orders were watched, and an entity's recovery read of a 200,000-event journal 18.6 ms instead of a key lookup
/// (<c>PostgresCachedPlanTests</c>). With sequential scans off, the plan uses the key's index whatever the table's size;
/// a statement with no index to use still scans.
/// </para>
/// <para>
/// Each pool holds at most <see cref="DefaultMaxPoolSize"/> connections unless the connection string says otherwise
/// (<c>Maximum Pool Size</c>); a caller that finds them all busy waits for one (Npgsql's <c>Timeout</c>, 15 s by default).
/// Npgsql's own default, 100 per pool, let a node's recovery storm (up to 50 entities recovering at once, each reading
/// the journal and the snapshots) open ~150 connections: more than a default PostgreSQL allows (100), and the integration
/// run's server refused connections ("too many clients").
/// </para>
/// </remarks>
internal static class PostgresDataSources
{
    public const int DefaultMaxPoolSize = 20;

    /// <summary>The session setting of these pools' connections (see the remarks).</summary>
    internal const string KeyedPlans = "SET enable_seqscan = off";

    private static readonly string[] MaxPoolSizeKeys = ["Maximum Pool Size", "Max Pool Size", "MaxPoolSize"];

    /// <param name="purpose">What the pool is for: <c>journal</c>, <c>snapshots</c>, <c>projection</c>.</param>
    public static NpgsqlDataSource Create(string connectionString, string purpose)
    {
        var builder = new NpgsqlConnectionStringBuilder(Named(connectionString, purpose));
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 32;
        builder.NoResetOnClose = true;
        var sources = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        // Set on each new connection rather than sent in the startup packet (Options), which poolers such as PgBouncer refuse
        // unless told to ignore it. The pooled connection keeps it: O2X's pools do not reset connections on return.
        if (builder.Options?.Contains("enable_seqscan", StringComparison.OrdinalIgnoreCase) != true)
            sources.UsePhysicalConnectionInitializer(KeyedPlansOn, KeyedPlansOnAsync);
        return sources.Build();
    }

    private static void KeyedPlansOn(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand(KeyedPlans, connection);
        command.ExecuteNonQuery();
    }

    private static async Task KeyedPlansOnAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(KeyedPlans, connection);
        await command.ExecuteNonQueryAsync();
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

    /// <summary>
    /// Runs <paramref name="operation"/>, and once more if the server had closed the pooled connection it took: a pool keeps
    /// its idle connections across a server restart, failover or <c>pg_terminate_backend</c>, and would otherwise hand each of
    /// them to one more caller, to fail there (an entity's recovery among them). The first such failure empties the pool's
    /// idle connections, so the retry and every later caller open fresh ones; the pools of O2X's own tables (linq2db, opened by
    /// connection string) are emptied with it, since whatever ended this connection most likely ended theirs too.
    /// </summary>
    /// <param name="mayRetry">
    /// Whether running <paramref name="operation"/> again is safe after this failure: always for reads and idempotent
    /// statements (the default); for a transaction, only if it failed before its commit was sent.
    /// </param>
    public static async Task<T> RetryingLostConnectionAsync<T>(this NpgsqlDataSource dataSource, Func<Task<T>> operation, Func<bool>? mayRetry = null)
    {
        try
        {
            return await operation();
        }
        catch (Exception ex) when (IsConnectionLost(ex))
        {
            dataSource.Clear();
            NpgsqlConnection.ClearAllPools();
            if (mayRetry is not null && !mayRetry()) throw;
        }

        return await operation();
    }

    /// <inheritdoc cref="RetryingLostConnectionAsync{T}"/>
    public static Task RetryingLostConnectionAsync(this NpgsqlDataSource dataSource, Func<Task> operation, Func<bool>? mayRetry = null) =>
        dataSource.RetryingLostConnectionAsync(async () =>
        {
            await operation();
            return true;
        }, mayRetry);

    /// <summary>
    /// The server ended the connection (<c>57P01</c> admin shutdown, <c>57P02</c> crash shutdown) or its socket broke:
    /// what a pooled connection shows on first use after the server restarted. Not a timeout, not a refused connect (the server
    /// is down: another try now would fail the same way).
    /// </summary>
    public static bool IsConnectionLost(Exception ex) => ex switch
    {
        PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown } => true,
        NpgsqlException { InnerException: IOException } => true,
        NpgsqlException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionReset or
            System.Net.Sockets.SocketError.ConnectionAborted or System.Net.Sockets.SocketError.Shutdown } } => true,
        _ => false,
    };
}
