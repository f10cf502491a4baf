using Npgsql;

namespace O2X.Actors.Persistence.Snapshots;

internal sealed class PostgresSnapshotRows(string connectionString) : ISnapshotRows
{
    private const string Bounds = "persistence_id = @p AND sequence_number >= @minSeq AND sequence_number <= @maxSeq AND created >= @minTs AND created <= @maxTs";

    private readonly NpgsqlDataSource _dataSource = PostgresDataSources.Create(connectionString, "snapshots");

    // Every statement here may run twice (RetryingLostConnectionAsync): reads, an upsert, deletes.
    public Task<SnapshotRow?> LatestAsync(string persistenceId, SnapshotBounds bounds, CancellationToken ct) =>
        _dataSource.RetryingLostConnectionAsync(() => ReadLatestAsync(persistenceId, bounds, ct));

    public Task SaveAsync(SnapshotRow row, CancellationToken ct) => _dataSource.RetryingLostConnectionAsync(() => UpsertAsync(row, ct));

    public Task DeleteAsync(string persistenceId, long sequenceNr, CancellationToken ct) =>
        _dataSource.RetryingLostConnectionAsync(() => DeleteOneAsync(persistenceId, sequenceNr, ct));

    public Task DeleteAsync(string persistenceId, SnapshotBounds bounds, CancellationToken ct) =>
        _dataSource.RetryingLostConnectionAsync(() => DeleteWithinAsync(persistenceId, bounds, ct));

    private async Task<SnapshotRow?> ReadLatestAsync(string persistenceId, SnapshotBounds bounds, CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT sequence_number, created, snapshot, manifest, serializer_id FROM snapshot WHERE {Bounds} ORDER BY sequence_number DESC LIMIT 1");
        AddBounds(command, persistenceId, bounds);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new SnapshotRow(persistenceId, reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2),
            reader.IsDBNull(3) ? string.Empty : reader.GetString(3), reader.GetInt32(4));
    }

    private async Task UpsertAsync(SnapshotRow row, CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand(
            "INSERT INTO snapshot (persistence_id, sequence_number, created, snapshot, manifest, serializer_id) VALUES (@p, @s, @c, @b, @m, @i) " +
            "ON CONFLICT (persistence_id, sequence_number) DO UPDATE SET created = excluded.created, snapshot = excluded.snapshot, " +
            "manifest = excluded.manifest, serializer_id = excluded.serializer_id");
        command.Parameters.AddWithValue("p", row.PersistenceId);
        command.Parameters.AddWithValue("s", row.SequenceNr);
        command.Parameters.AddWithValue("c", row.Created);
        command.Parameters.AddWithValue("b", row.Payload);
        command.Parameters.AddWithValue("m", row.Manifest);
        command.Parameters.AddWithValue("i", row.SerializerId);
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task DeleteOneAsync(string persistenceId, long sequenceNr, CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM snapshot WHERE persistence_id = @p AND sequence_number = @s");
        command.Parameters.AddWithValue("p", persistenceId);
        command.Parameters.AddWithValue("s", sequenceNr);
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task DeleteWithinAsync(string persistenceId, SnapshotBounds bounds, CancellationToken ct)
    {
        await using var command = _dataSource.CreateCommand($"DELETE FROM snapshot WHERE {Bounds}");
        AddBounds(command, persistenceId, bounds);
        await command.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static void AddBounds(NpgsqlCommand command, string persistenceId, SnapshotBounds bounds)
    {
        command.Parameters.AddWithValue("p", persistenceId);
        command.Parameters.AddWithValue("minSeq", bounds.MinSequenceNr);
        command.Parameters.AddWithValue("maxSeq", bounds.MaxSequenceNr);
        command.Parameters.AddWithValue("minTs", bounds.MinCreated);
        command.Parameters.AddWithValue("maxTs", bounds.MaxCreated);
    }
}
