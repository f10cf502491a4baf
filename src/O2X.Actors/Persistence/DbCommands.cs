using System.Data;
using System.Data.Common;

namespace O2X.Actors.Persistence;

/// <summary>Parameters of O2X's own ADO.NET statements, whichever the provider.</summary>
internal static class DbCommands
{
    /// <summary>
    /// Adds a parameter <paramref name="name"/> to <paramref name="command"/> and returns it: with its value, or without for a
    /// prepared statement that sets it per run; with a <paramref name="type"/> where the statement is prepared before any value
    /// is known (PostgreSQL).
    /// </summary>
    public static DbParameter AddParameter(this DbCommand command, string name, object? value = null, DbType? type = null)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        if (type is { } known) parameter.DbType = known;
        if (value is not null) parameter.Value = value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
