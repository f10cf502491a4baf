namespace O2X.Actors.Persistence.Snapshots;

/// <summary>One snapshot as stored in Akka.Persistence.Sql's <c>snapshot</c> table.</summary>
internal sealed record SnapshotRow(string PersistenceId, long SequenceNr, long Created, byte[] Payload, string Manifest, int SerializerId);

/// <summary>The bounds of <c>SnapshotSelectionCriteria</c>, in the table's units (ticks).</summary>
internal sealed record SnapshotBounds(long MinSequenceNr, long MaxSequenceNr, long MinCreated, long MaxCreated);

/// <summary>The SQL of the snapshot store for one database engine.</summary>
internal interface ISnapshotRows : IAsyncDisposable
{
    Task<SnapshotRow?> LatestAsync(string persistenceId, SnapshotBounds bounds, CancellationToken ct);

    /// <summary>Inserts, or replaces the snapshot at the same sequence number.</summary>
    Task SaveAsync(SnapshotRow row, CancellationToken ct);

    Task DeleteAsync(string persistenceId, long sequenceNr, CancellationToken ct);

    Task DeleteAsync(string persistenceId, SnapshotBounds bounds, CancellationToken ct);
}
