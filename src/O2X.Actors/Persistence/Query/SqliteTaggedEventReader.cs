using System.Data.Common;

namespace O2X.Actors.Persistence.Query;

internal sealed class SqliteTaggedEventReader(string connectionString, TimeSpan gapTimeout) : TaggedEventReader(gapTimeout)
{
    private readonly SqliteConnections _connections = new(connectionString, maxIdle: 1);

    protected override Task<List<T>> QueryAsync<T>(string sql, (string Name, object Value)[] parameters, Func<DbDataReader, T> read, CancellationToken ct) =>
        _connections.UseAsync(async lease =>
        {
            var command = lease.Command(sql, [.. parameters.Select(p => "@" + p.Name)]);
            for (var i = 0; i < parameters.Length; i++) command.Parameters[i].Value = parameters[i].Value;
            var rows = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) rows.Add(read(reader));
            return rows;
        }, ct);

    /// <summary>
    /// SQLite has one writer, and the journal's orderings only grow (<c>AUTOINCREMENT</c>, never reused): once an ordering
    /// is visible, every smaller one is visible too or was rolled back for good. So the highest ordering is safe, read
    /// before the events so nothing committed in between is passed over — one index lookup instead of reading through
    /// the orderings (which, in a table of whole events, means hundreds of pages per batch).
    /// </summary>
    protected override async Task<long> SafeUpToAsync(long after, int max, CancellationToken ct) =>
        (await QueryAsync(MaxOrderingSql, [], r => r.IsDBNull(0) ? 0L : r.GetInt64(0), ct)) is [var highest] ? highest : 0L;

    private const string MaxOrderingSql = "SELECT max(ordering) FROM journal";

    /// <summary>
    /// The tag compared as <c>+t.tag</c>, which no index serves: without statistics SQLite's planner otherwise takes the index
    /// on the tag alone, reads every event ever tagged so, and sorts them — a time that grows with the journal (54 ms per
    /// batch at 31,000 orders). This way it walks the tags' primary key (ordering, tag) from the offset and stops at the
    /// batch's size (0.65 ms on the same database; <c>SqliteJournalConformanceTests</c> checks the plan).
    /// </summary>
    protected override string TaggedSql => SqliteTaggedSql;

    internal static readonly string SqliteTaggedSql = string.Format(System.Globalization.CultureInfo.InvariantCulture, TaggedSqlFormat, "+t.tag");

    public override ValueTask DisposeAsync() => _connections.DisposeAsync();
}
