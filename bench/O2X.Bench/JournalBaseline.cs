using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace O2X.Bench;

/// <summary>
/// The baseline: the same event bytes written with plain batched INSERTs (100 rows per statement and
/// transaction) into a table shaped like Akka.Persistence.Sql's journal, plus its tag rows, in the same
/// database — what the hardware and the database can do without any framework.
/// </summary>
internal static class JournalBaseline
{
    public sealed record Row(string PersistenceId, long SequenceNr, string Manifest, byte[] Payload, bool Tagged);

    public sealed record Result(long Rows, long TagRows, TimeSpan Elapsed)
    {
        public double RowsPerSecond => Rows / Elapsed.TotalSeconds;
    }

    public static async Task<Result> RunAsync(BenchStore store, IReadOnlyList<Row> rows, int batchSize = 100)
    {
        await using var connection = Open(store);
        await connection.OpenAsync();
        await ExecuteAsync(connection, store.IsSqlite
            ? "CREATE TABLE journal (ordering INTEGER PRIMARY KEY AUTOINCREMENT, deleted INTEGER NOT NULL, persistence_id VARCHAR(255) NOT NULL, " +
              "sequence_number BIGINT NOT NULL, created BIGINT NOT NULL, tags VARCHAR(100), message BLOB NOT NULL, identifier INTEGER, " +
              "manifest VARCHAR(500) NOT NULL, writer_uuid VARCHAR(128), UNIQUE (persistence_id, sequence_number));" +
              "CREATE TABLE tags (ordering_id BIGINT NOT NULL, tag VARCHAR(64) NOT NULL, persistence_id VARCHAR(255) NOT NULL, sequence_nr BIGINT NOT NULL, " +
              "PRIMARY KEY (ordering_id, tag, persistence_id));"
            : "CREATE TABLE journal (ordering BIGSERIAL PRIMARY KEY, deleted BOOLEAN NOT NULL, persistence_id VARCHAR(255) NOT NULL, " +
              "sequence_number BIGINT NOT NULL, created BIGINT NOT NULL, tags VARCHAR(100), message BYTEA NOT NULL, identifier INTEGER, " +
              "manifest VARCHAR(500) NOT NULL, writer_uuid VARCHAR(128), UNIQUE (persistence_id, sequence_number));" +
              "CREATE TABLE tags (ordering_id BIGINT NOT NULL, tag VARCHAR(64) NOT NULL, persistence_id VARCHAR(255) NOT NULL, sequence_nr BIGINT NOT NULL, " +
              "PRIMARY KEY (ordering_id, tag, persistence_id));");

        var writer = Guid.NewGuid().ToString();
        long tagRows = 0;
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < rows.Count; start += batchSize)
        {
            var batch = rows.Skip(start).Take(batchSize).ToList();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            var values = new List<string>(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                values.Add($"(@d{i}, @p{i}, @s{i}, @c{i}, NULL, @m{i}, 4711, @f{i}, @w{i})");
                Add(insert, $"d{i}", store.IsSqlite ? 0 : false);
                Add(insert, $"p{i}", batch[i].PersistenceId);
                Add(insert, $"s{i}", batch[i].SequenceNr);
                Add(insert, $"c{i}", DateTime.UtcNow.Ticks);
                Add(insert, $"m{i}", batch[i].Payload);
                Add(insert, $"f{i}", batch[i].Manifest);
                Add(insert, $"w{i}", writer);
            }

            insert.CommandText = "INSERT INTO journal (deleted, persistence_id, sequence_number, created, tags, message, identifier, manifest, writer_uuid) VALUES "
                                 + string.Join(",", values) + " RETURNING ordering";
            var orderings = new List<long>(batch.Count);
            await using (var reader = await insert.ExecuteReaderAsync())
                while (await reader.ReadAsync()) orderings.Add(reader.GetInt64(0));

            var tagged = batch.Select((r, i) => (r, i)).Where(x => x.r.Tagged).ToList();
            if (tagged.Count > 0)
            {
                await using var tags = connection.CreateCommand();
                tags.Transaction = transaction;
                tags.CommandText = "INSERT INTO tags (ordering_id, tag, persistence_id, sequence_nr) VALUES "
                                   + string.Join(",", tagged.Select(t => $"(@o{t.i}, 'outbox', @p{t.i}, @s{t.i})"));
                foreach (var (row, i) in tagged)
                {
                    Add(tags, $"o{i}", orderings[i]);
                    Add(tags, $"p{i}", row.PersistenceId);
                    Add(tags, $"s{i}", row.SequenceNr);
                }

                tagRows += await tags.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }

        return new Result(rows.Count, tagRows, clock.Elapsed);
    }

    private static DbConnection Open(BenchStore store) =>
        store.IsSqlite ? new SqliteConnection(store.ConnectionString) : new NpgsqlConnection(store.ConnectionString);

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
