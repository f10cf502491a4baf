namespace O2X.Actors.Persistence.Snapshots;

internal sealed class SqliteSnapshotRows(string connectionString) : ISnapshotRows
{
    private const string Bounds = "persistence_id = $p AND sequence_number >= $minSeq AND sequence_number <= $maxSeq AND created >= $minTs AND created <= $maxTs";
    private static readonly string[] BoundParameters = ["$p", "$minSeq", "$maxSeq", "$minTs", "$maxTs"];

    private readonly SqliteConnections _connections = new(connectionString, maxIdle: 4);

    public Task<SnapshotRow?> LatestAsync(string persistenceId, SnapshotBounds bounds, CancellationToken ct) =>
        _connections.UseAsync(async lease =>
        {
            var command = lease.Command(
                $"SELECT sequence_number, created, snapshot, manifest, serializer_id FROM snapshot WHERE {Bounds} ORDER BY sequence_number DESC LIMIT 1",
                BoundParameters);
            SetBounds(command.Parameters, persistenceId, bounds);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) return null;
            return new SnapshotRow(persistenceId, reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2),
                reader.IsDBNull(3) ? string.Empty : reader.GetString(3), reader.GetInt32(4));
        }, ct);

    public Task SaveAsync(SnapshotRow row, CancellationToken ct) =>
        _connections.UseAsync<SnapshotRow?>(async lease =>
        {
            var command = lease.Command(
                "INSERT INTO snapshot (persistence_id, sequence_number, created, snapshot, manifest, serializer_id) VALUES ($p, $s, $c, $b, $m, $i) " +
                "ON CONFLICT (persistence_id, sequence_number) DO UPDATE SET created = excluded.created, snapshot = excluded.snapshot, " +
                "manifest = excluded.manifest, serializer_id = excluded.serializer_id",
                "$p", "$s", "$c", "$b", "$m", "$i");
            var p = command.Parameters;
            p[0].Value = row.PersistenceId;
            p[1].Value = row.SequenceNr;
            p[2].Value = row.Created;
            p[3].Value = row.Payload;
            p[4].Value = row.Manifest;
            p[5].Value = row.SerializerId;
            await command.ExecuteNonQueryAsync(ct);
            return null;
        }, ct);

    public Task DeleteAsync(string persistenceId, long sequenceNr, CancellationToken ct) =>
        _connections.UseAsync<SnapshotRow?>(async lease =>
        {
            var command = lease.Command("DELETE FROM snapshot WHERE persistence_id = $p AND sequence_number = $s", "$p", "$s");
            command.Parameters[0].Value = persistenceId;
            command.Parameters[1].Value = sequenceNr;
            await command.ExecuteNonQueryAsync(ct);
            return null;
        }, ct);

    public Task DeleteAsync(string persistenceId, SnapshotBounds bounds, CancellationToken ct) =>
        _connections.UseAsync<SnapshotRow?>(async lease =>
        {
            var command = lease.Command($"DELETE FROM snapshot WHERE {Bounds}", BoundParameters);
            SetBounds(command.Parameters, persistenceId, bounds);
            await command.ExecuteNonQueryAsync(ct);
            return null;
        }, ct);

    public ValueTask DisposeAsync() => _connections.DisposeAsync();

    private static void SetBounds(Microsoft.Data.Sqlite.SqliteParameterCollection p, string persistenceId, SnapshotBounds bounds)
    {
        p[0].Value = persistenceId;
        p[1].Value = bounds.MinSequenceNr;
        p[2].Value = bounds.MaxSequenceNr;
        p[3].Value = bounds.MinCreated;
        p[4].Value = bounds.MaxCreated;
    }
}
