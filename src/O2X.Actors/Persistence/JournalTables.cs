namespace O2X.Actors.Persistence;

/// <summary>The journal's tables (<c>journal</c>, <c>tags</c>), which Akka.Persistence.Sql creates with the journal's first use (<see cref="Journal.JournalSchema"/>).</summary>
internal static class JournalTables
{
    /// <summary>
    /// The query failed because the journal's tables do not exist yet: a fresh database that no entity has used. Readers of the
    /// journal (the outbox projection, the bill run) treat that as an empty journal.
    /// </summary>
    public static bool AreMissing(Exception ex) => ex switch
    {
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 1 && sqlite.Message.Contains("no such table", StringComparison.Ordinal),
        Npgsql.PostgresException postgres => postgres.SqlState == Npgsql.PostgresErrorCodes.UndefinedTable,
        _ => false,
    };
}
