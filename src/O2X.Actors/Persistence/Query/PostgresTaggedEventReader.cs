using System.Data.Common;
using Npgsql;

namespace O2X.Actors.Persistence.Query;

internal sealed class PostgresTaggedEventReader(string connectionString, TimeSpan gapTimeout) : TaggedEventReader(gapTimeout)
{
    private readonly NpgsqlDataSource _dataSource = PostgresDataSources.Create(connectionString, "projection");

    protected override Task<List<T>> QueryAsync<T>(string sql, (string Name, object Value)[] parameters, Func<DbDataReader, T> read, CancellationToken ct) =>
        _dataSource.RetryingLostConnectionAsync(() => RunAsync(sql, parameters, read, ct));

    private async Task<List<T>> RunAsync<T>(string sql, (string Name, object Value)[] parameters, Func<DbDataReader, T> read, CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add(read(reader));
        return rows;
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
