using System.Data.Common;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;

namespace O2X.Actors.Persistence;

/// <summary>
/// The order numbers of each day (<c>o2x_order_number</c>: a row per business order, keyed by day and correlation id,
/// a unique number per day). The allocator of a day (one per cluster) decides the numbers and keeps only the last one in
/// memory; this table remembers which key got which, so a resubmitted order gets its number back however long the day.
/// </summary>
internal sealed class OrderNumberStore(O2XDatabase database)
{
    /// <summary>The highest number given out on <paramref name="day"/> (0 before the first).</summary>
    public async Task<int> LastNumberAsync(string day, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await db.GetTable<O2XTables.OrderNumberRow>().Where(r => r.Day == day).Select(r => (int?)r.Number).MaxAsync(ct) ?? 0;
    }

    /// <summary>
    /// Gives each key of <paramref name="keys"/> (in order) the next number after <paramref name="last"/> — or, for a key
    /// that already has one, that number — in one transaction: one prepared statement per key, which inserts the row or
    /// returns the existing one. Returns each key's number and whether this call gave it. When this process runs the
    /// database's journal writer, the statements join its next group commit (one writer, one fsync, for both).
    /// </summary>
    public async Task<IReadOnlyList<(int Number, bool IsNew)>> AssignAsync(string day, int last, IReadOnlyList<string> keys, CancellationToken ct = default)
    {
        var assignment = new Assignment(day, last, keys);
        if (Journal.JournalWriters.For(database.ConnectionString) is { } journal)
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

        await using var db = await database.OpenAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        var connection = await db.OpenDbConnectionAsync(ct);
        await assignment.ExecuteAsync(connection, db.Transaction!, ct);
        await transaction.CommitAsync(ct);
        return assignment.Results;
    }

    /// <summary>The statements of one assignment; they may run again (a joined write is repeated if its batch failed).</summary>
    private sealed class Assignment(string day, int last, IReadOnlyList<string> keys) : Journal.IJoinedWrite
    {
        public IReadOnlyList<(int Number, bool IsNew)> Results { get; private set; } = [];

        public async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct)
        {
            await using var assign = connection.CreateCommand();
            assign.Transaction = transaction;
            // A key that exists keeps its number: the no-op update makes RETURNING give it back.
            assign.CommandText = "INSERT INTO o2x_order_number (day, order_key, number) VALUES (@day, @key, @number) " +
                                 "ON CONFLICT (day, order_key) DO UPDATE SET number = o2x_order_number.number RETURNING number";
            var (dayParameter, key, number) = (Add(assign, "@day", System.Data.DbType.String), Add(assign, "@key", System.Data.DbType.String),
                Add(assign, "@number", System.Data.DbType.Int32));
            dayParameter.Value = day;
            await assign.PrepareAsync(ct);
            var next = last;
            var results = new List<(int, bool)>(keys.Count);
            foreach (var k in keys)
            {
                key.Value = k;
                number.Value = next + 1;
                var got = Convert.ToInt32(await assign.ExecuteScalarAsync(ct));
                var isNew = got == next + 1;
                if (isNew) next++;
                results.Add((got, isNew));
            }

            Results = results;
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

    /// <summary>A parameter with its type, so that the statement can be prepared before the values are known (PostgreSQL).</summary>
    private static DbParameter Add(DbCommand command, string name, System.Data.DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
