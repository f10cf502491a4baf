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

    public override ValueTask DisposeAsync() => _connections.DisposeAsync();
}
