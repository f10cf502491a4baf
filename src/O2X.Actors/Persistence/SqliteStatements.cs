using System.Data.Common;
using System.Runtime.CompilerServices;

namespace O2X.Actors.Persistence;

/// <summary>
/// Commands kept per SQLite connection, so that a statement run in every transaction of a long-lived connection (the journal
/// writer's: the outbox's and the provisioning watch's rows it writes beside the events) is parsed once, not once per
/// transaction inside the database's only write lock. A connection is used by one caller at a time, and its commands go with it.
/// </summary>
internal static class SqliteStatements
{
    private static readonly ConditionalWeakTable<DbConnection, Dictionary<string, DbCommand>> Cache = new();

    /// <summary>The connection's command for <paramref name="sql"/>, its text parameters created once, bound to <paramref name="transaction"/>.</summary>
    public static DbCommand For(DbConnection connection, DbTransaction? transaction, string sql, params string[] parameters)
    {
        var commands = Cache.GetOrCreateValue(connection);
        if (!commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters) command.AddParameter(name, type: System.Data.DbType.String);

            commands[sql] = command;
        }

        command.Transaction = transaction;
        return command;
    }
}
