using System.Data.Common;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;

namespace O2X.Actors.Persistence;

/// <summary>
/// The order numbers of each day (<c>o2x_order_number</c>: a row per business order, keyed by day and correlation id,
/// a unique number per day). The allocator of a day (one per cluster) hands the keys in, in order; each write takes the
/// numbers after the day's highest in this table, and the table remembers which key got which, so a resubmitted order gets
/// its number back however long the day.
/// </summary>
internal sealed class OrderNumberStore(O2XDatabase database)
{
    /// <summary>Writes that do not join the journal's group commit go one at a time (see <see cref="AssignAsync"/>).</summary>
    private readonly SemaphoreSlim _alone = new(1, 1);

    /// <summary>The highest number given out on <paramref name="day"/> (0 before the first).</summary>
    public async Task<int> LastNumberAsync(string day, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await db.GetTable<O2XTables.OrderNumberRow>().Where(r => r.Day == day).Select(r => (int?)r.Number).MaxAsync(ct) ?? 0;
    }

    /// <summary>True when this process runs the database's journal writer, so assignments join its group commits.</summary>
    public bool JoinsJournal => JoinedJournal is not null;

    private Journal.WriteBatcher? JoinedJournal => Journal.JournalWriters.For(database.ConnectionString);

    /// <summary>
    /// Writes <paramref name="assignment"/> and returns each of its keys' numbers (in the order they were added) and whether
    /// this call gave it. When this process runs the database's journal writer, the statements join its next group commit
    /// (one writer, one fsync, for both); there, assignments are written in the order they were handed in, so several may be
    /// in flight at once. Otherwise the assignment is written in a transaction of its own.
    /// </summary>
    public async Task<IReadOnlyList<(int Number, bool IsNew)>> AssignAsync(Assignment assignment, CancellationToken ct = default)
    {
        if (JoinedJournal is { } journal)
        {
            try
            {
                await journal.JoinAsync(assignment);
                return assignment.Results;
            }
            catch (Journal.JournalStoppedException)
            {
                // The journal writer stopped under us (shutdown, plugin restart): it was only the faster way; write alone.
            }
        }

        // Alone, one at a time in this process: assignments that fell back together (the journal writer stopped with several
        // queued) would read the same highest number, and on PostgreSQL all but one would break the unique number.
        await _alone.WaitAsync(ct);
        try
        {
            await using var db = await database.OpenAsync(ct);
            await using var transaction = await db.BeginTransactionAsync(ct);
            var connection = await db.OpenDbConnectionAsync(ct);
            await assignment.ExecuteAsync(connection, db.Transaction!, ct);
            await transaction.CommitAsync(ct);
            return assignment.Results;
        }
        finally
        {
            _alone.Release();
        }
    }

    /// <summary>
    /// The keys of one write, in order. Keys can be added until the write starts; from then on it is sealed and a new
    /// assignment takes the next keys. Each key gets the next number after the day's highest in the table, read inside the
    /// write's own transaction — so numbers stay sequential without gaps whatever was written before it (an earlier
    /// assignment of the same group commit, a rolled-back batch, a number taken behind the allocator's back). The statements
    /// may run again (a joined write is repeated if its batch failed) and decide everything again each time.
    /// </summary>
    internal sealed class Assignment(string day) : Journal.IPostgresBatchedWrite
    {
        private readonly List<string> _keys = [];
        private bool _sealed;
        private string[] _batched = [];

        public IReadOnlyList<(int Number, bool IsNew)> Results { get; private set; } = [];

        /// <summary>Adds <paramref name="key"/> unless the write has started (then false: start another assignment).</summary>
        public bool TryAdd(string key)
        {
            lock (_keys)
            {
                if (_sealed) return false;
                _keys.Add(key);
                return true;
            }
        }

        private string[] Seal()
        {
            lock (_keys)
            {
                _sealed = true;
                return [.. _keys];
            }
        }

        public async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct)
        {
            if (connection is Npgsql.NpgsqlConnection postgres)
            {
                await using var batch = new Npgsql.NpgsqlBatch(postgres, (Npgsql.NpgsqlTransaction)transaction);
                await Journal.PostgresBatches.RunAsync(batch, [(this, AddTo(batch))], ct);
                return;
            }

            Results = await AssignOneByOneAsync(connection, transaction, Seal(), ct);
        }

        /// <summary>
        /// PostgreSQL: one upsert per key, run in order, each seeing the ones before it; in the journal writer's batch (one round
        /// trip for the whole group commit), or in a batch of their own. Each looks its key up by the table's primary key and
        /// reads the day's highest number from its own index, plans that do not depend on the table's statistics (one set-based
        /// statement that looked all keys up at once was planned from stale statistics as a scan of the whole day and took 8 ms
        /// instead of 0.2).
        /// </summary>
        public int AddTo(Npgsql.NpgsqlBatch batch)
        {
            _batched = Seal();
            Results = [];
            foreach (var k in _batched)
            {
                // A key that exists keeps its number: the no-op update makes RETURNING give it back, and it is not the next one.
                var assign = new Npgsql.NpgsqlBatchCommand(
                    "WITH m AS (SELECT COALESCE(MAX(number), 0) + 1 AS next FROM o2x_order_number WHERE day = $1) " +
                    "INSERT INTO o2x_order_number (day, order_key, number) SELECT $1, $2, next FROM m " +
                    "ON CONFLICT (day, order_key) DO UPDATE SET number = o2x_order_number.number RETURNING number, number = (SELECT next FROM m)");
                assign.Parameters.Add(new Npgsql.NpgsqlParameter<string> { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, TypedValue = day });
                assign.Parameters.Add(new Npgsql.NpgsqlParameter<string> { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, TypedValue = k });
                batch.BatchCommands.Add(assign);
            }

            return _batched.Length;
        }

        public async Task ReadAsync(Npgsql.NpgsqlDataReader reader, CancellationToken ct)
        {
            var results = new List<(int, bool)>(_batched.Length);
            for (var i = 0; i < _batched.Length; i++)
            {
                if (i > 0 && !await reader.NextResultAsync(ct))
                    throw new InvalidOperationException($"Order number assignment of {day} returned {results.Count} numbers for {_batched.Length} keys.");
                if (!await reader.ReadAsync(ct)) throw new InvalidOperationException($"Order number assignment of {day} returned no number for a key.");
                results.Add((reader.GetInt32(0), reader.GetBoolean(1)));
            }

            Results = results;
        }

        /// <summary>SQLite (in process, no round trips): one prepared statement per key.</summary>
        private async Task<IReadOnlyList<(int Number, bool IsNew)>> AssignOneByOneAsync(DbConnection connection, DbTransaction transaction, string[] keys,
            CancellationToken ct)
        {
            await using var highest = connection.CreateCommand();
            highest.Transaction = transaction;
            highest.CommandText = "SELECT COALESCE(MAX(number), 0) FROM o2x_order_number WHERE day = @day";
            highest.AddParameter("@day", type: System.Data.DbType.String).Value = day;
            var next = Convert.ToInt32(await highest.ExecuteScalarAsync(ct));

            await using var assign = connection.CreateCommand();
            assign.Transaction = transaction;
            // A key that exists keeps its number: the no-op update makes RETURNING give it back.
            assign.CommandText = "INSERT INTO o2x_order_number (day, order_key, number) VALUES (@day, @key, @number) " +
                                 "ON CONFLICT (day, order_key) DO UPDATE SET number = o2x_order_number.number RETURNING number";
            var (dayParameter, key, number) = (assign.AddParameter("@day", type: System.Data.DbType.String), assign.AddParameter("@key", type: System.Data.DbType.String),
                assign.AddParameter("@number", type: System.Data.DbType.Int32));
            dayParameter.Value = day;
            await assign.PrepareAsync(ct);
            var results = new List<(int, bool)>(keys.Length);
            foreach (var k in keys)
            {
                key.Value = k;
                number.Value = next + 1;
                var got = Convert.ToInt32(await assign.ExecuteScalarAsync(ct));
                var isNew = got == next + 1;
                if (isNew) next++;
                results.Add((got, isNew));
            }

            return results;
        }
    }

    /// <summary>Records numbers given out before this table existed (the allocator's old journal), keeping what is there.</summary>
    public async Task ImportAsync(string day, IEnumerable<KeyValuePair<string, int>> assigned, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        foreach (var chunk in assigned.Chunk(500))
        {
            foreach (var (k, n) in chunk)
                await db.ExecuteAsync("INSERT INTO o2x_order_number (day, order_key, number) VALUES (@day, @key, @number) ON CONFLICT DO NOTHING", ct,
                    new DataParameter("day", day, DataType.NVarChar), new DataParameter("key", k, DataType.NVarChar), new DataParameter("number", n, DataType.Int32));
        }

        await transaction.CommitAsync(ct);
    }
}
