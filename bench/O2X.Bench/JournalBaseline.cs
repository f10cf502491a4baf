using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace O2X.Bench;

/// <summary>
/// The ceiling: the same event bytes, and their tag rows, written into tables shaped like Akka.Persistence.Sql's journal in
/// the same database, the fastest plain way each database allows — what the hardware and the database can do without any
/// framework. SQLite (WAL, <c>synchronous = FULL</c> like the node): one prepared single-row INSERT per row with its
/// parameters bound once and only their values changed (Microsoft.Data.Sqlite binds by name, so multi-row statements with
/// hundreds of parameters are slower), <see cref="SqliteBatch"/> rows per transaction. PostgreSQL: binary COPY of the rows
/// and of their tags, <see cref="PostgresBatch"/> rows per transaction (orderings taken from the sequence up front).
/// </summary>
internal static class JournalBaseline
{
    public const int SqliteBatch = 500;
    public const int PostgresBatch = 1000;

    public sealed record Row(string PersistenceId, long SequenceNr, string Manifest, byte[] Payload, bool Tagged);

    public sealed record Result(long Rows, long TagRows, TimeSpan Elapsed)
    {
        public double RowsPerSecond => Rows / Elapsed.TotalSeconds;
    }

    public static async Task<Result> RunAsync(BenchStore store, IReadOnlyList<Row> rows)
    {
        await using var connection = Open(store);
        await connection.OpenAsync();
        await ExecuteAsync(connection, store.IsSqlite
            ? "CREATE TABLE journal (ordering INTEGER PRIMARY KEY AUTOINCREMENT, deleted INTEGER NOT NULL, persistence_id VARCHAR(255) NOT NULL, " +
              "sequence_number BIGINT NOT NULL, created BIGINT NOT NULL, tags VARCHAR(100), message BLOB NOT NULL, identifier INTEGER, " +
              "manifest VARCHAR(500) NOT NULL, writer_uuid VARCHAR(128), UNIQUE (persistence_id, sequence_number));" +
              "CREATE TABLE tags (ordering_id BIGINT NOT NULL, tag VARCHAR(64) NOT NULL, persistence_id VARCHAR(255) NOT NULL, sequence_nr BIGINT NOT NULL, " +
              "PRIMARY KEY (ordering_id, tag, persistence_id));" +
              "PRAGMA synchronous = FULL;"
            : "CREATE TABLE journal (ordering BIGSERIAL PRIMARY KEY, deleted BOOLEAN NOT NULL, persistence_id VARCHAR(255) NOT NULL, " +
              "sequence_number BIGINT NOT NULL, created BIGINT NOT NULL, tags VARCHAR(100), message BYTEA NOT NULL, identifier INTEGER, " +
              "manifest VARCHAR(500) NOT NULL, writer_uuid VARCHAR(128), UNIQUE (persistence_id, sequence_number));" +
              "CREATE TABLE tags (ordering_id BIGINT NOT NULL, tag VARCHAR(64) NOT NULL, persistence_id VARCHAR(255) NOT NULL, sequence_nr BIGINT NOT NULL, " +
              "PRIMARY KEY (ordering_id, tag, persistence_id));");
        var writer = Guid.NewGuid().ToString();
        var clock = Stopwatch.StartNew();
        var tagRows = store.IsSqlite
            ? await SqliteAsync((SqliteConnection)connection, rows, writer)
            : await PostgresAsync((NpgsqlConnection)connection, rows, writer);
        return new Result(rows.Count, tagRows, clock.Elapsed);
    }

    private static async Task<long> SqliteAsync(SqliteConnection connection, IReadOnlyList<Row> rows, string writer)
    {
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO journal (deleted, persistence_id, sequence_number, created, tags, message, identifier, manifest, writer_uuid) " +
                             "VALUES (0, $p, $s, $c, NULL, $m, 4711, $f, $w) RETURNING ordering";
        var (p, sq, c, m, f, w) = (insert.Parameters.Add("$p", SqliteType.Text), insert.Parameters.Add("$s", SqliteType.Integer),
            insert.Parameters.Add("$c", SqliteType.Integer), insert.Parameters.Add("$m", SqliteType.Blob), insert.Parameters.Add("$f", SqliteType.Text),
            insert.Parameters.Add("$w", SqliteType.Text));
        w.Value = writer;
        await using var tag = connection.CreateCommand();
        tag.CommandText = "INSERT INTO tags (ordering_id, tag, persistence_id, sequence_nr) VALUES ($o, 'outbox', $p, $s)";
        var (to, tp, ts) = (tag.Parameters.Add("$o", SqliteType.Integer), tag.Parameters.Add("$p", SqliteType.Text), tag.Parameters.Add("$s", SqliteType.Integer));
        long tagRows = 0;
        for (var start = 0; start < rows.Count; start += SqliteBatch)
        {
            await using var transaction = connection.BeginTransaction();
            insert.Transaction = transaction;
            tag.Transaction = transaction;
            insert.Prepare();
            tag.Prepare();
            for (var i = start; i < Math.Min(start + SqliteBatch, rows.Count); i++)
            {
                var row = rows[i];
                (p.Value, sq.Value, c.Value, m.Value, f.Value) = (row.PersistenceId, row.SequenceNr, DateTime.UtcNow.Ticks, row.Payload, row.Manifest);
                var ordering = (long)(await insert.ExecuteScalarAsync())!;
                if (!row.Tagged) continue;
                (to.Value, tp.Value, ts.Value) = (ordering, row.PersistenceId, row.SequenceNr);
                tagRows += await tag.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }

        return tagRows;
    }

    private static async Task<long> PostgresAsync(NpgsqlConnection connection, IReadOnlyList<Row> rows, string writer)
    {
        long tagRows = 0;
        for (var start = 0; start < rows.Count; start += PostgresBatch)
        {
            var batch = rows.Skip(start).Take(PostgresBatch).ToList();
            await using var transaction = await connection.BeginTransactionAsync();
            // The orderings the rows get, taken from the table's sequence in one round trip, so the tags can name them.
            var orderings = new List<long>(batch.Count);
            await using (var next = new NpgsqlCommand("SELECT nextval(pg_get_serial_sequence('journal', 'ordering')) FROM generate_series(1, $1)", connection, transaction))
            {
                next.Parameters.AddWithValue(batch.Count);
                await using var reader = await next.ExecuteReaderAsync();
                while (await reader.ReadAsync()) orderings.Add(reader.GetInt64(0));
            }

            await using (var copy = await connection.BeginBinaryImportAsync(
                             "COPY journal (ordering, deleted, persistence_id, sequence_number, created, message, identifier, manifest, writer_uuid) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(orderings[i], NpgsqlTypes.NpgsqlDbType.Bigint);
                    await copy.WriteAsync(false, NpgsqlTypes.NpgsqlDbType.Boolean);
                    await copy.WriteAsync(batch[i].PersistenceId, NpgsqlTypes.NpgsqlDbType.Varchar);
                    await copy.WriteAsync(batch[i].SequenceNr, NpgsqlTypes.NpgsqlDbType.Bigint);
                    await copy.WriteAsync(DateTime.UtcNow.Ticks, NpgsqlTypes.NpgsqlDbType.Bigint);
                    await copy.WriteAsync(batch[i].Payload, NpgsqlTypes.NpgsqlDbType.Bytea);
                    await copy.WriteAsync(4711, NpgsqlTypes.NpgsqlDbType.Integer);
                    await copy.WriteAsync(batch[i].Manifest, NpgsqlTypes.NpgsqlDbType.Varchar);
                    await copy.WriteAsync(writer, NpgsqlTypes.NpgsqlDbType.Varchar);
                }

                await copy.CompleteAsync();
            }

            await using (var copy = await connection.BeginBinaryImportAsync("COPY tags (ordering_id, tag, persistence_id, sequence_nr) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    if (!batch[i].Tagged) continue;
                    await copy.StartRowAsync();
                    await copy.WriteAsync(orderings[i], NpgsqlTypes.NpgsqlDbType.Bigint);
                    await copy.WriteAsync("outbox", NpgsqlTypes.NpgsqlDbType.Varchar);
                    await copy.WriteAsync(batch[i].PersistenceId, NpgsqlTypes.NpgsqlDbType.Varchar);
                    await copy.WriteAsync(batch[i].SequenceNr, NpgsqlTypes.NpgsqlDbType.Bigint);
                    tagRows++;
                }

                await copy.CompleteAsync();
            }

            await transaction.CommitAsync();
        }

        return tagRows;
    }

    private static DbConnection Open(BenchStore store) =>
        store.IsSqlite ? new SqliteConnection(store.ConnectionString) : new NpgsqlConnection(store.ConnectionString);

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
