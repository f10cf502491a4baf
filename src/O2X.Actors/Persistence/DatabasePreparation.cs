using Microsoft.Data.Sqlite;
using O2X.Actors.Hosting;

namespace O2X.Actors.Persistence;

/// <summary>Gets the database ready before the actor system touches it.</summary>
internal static class DatabasePreparation
{
    /// <summary>
    /// For SQLite: creates the file's directory and switches the file to WAL (readers never block the
    /// journal writer; the setting is stored in the file). Nothing to do for PostgreSQL, whose tables
    /// Akka.Persistence.Sql creates on first use.
    /// </summary>
    public static void Prepare(PersistenceOptions options)
    {
        if (options.EffectiveProvider != PersistenceProvider.Sqlite) return;
        var builder = new SqliteConnectionStringBuilder(options.EffectiveConnectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        using var connection = new SqliteConnection(builder.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}
