using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Snapshot;
using Akka.Serialization;
using Akka.Util;

namespace O2X.Actors.Persistence.Snapshots;

/// <summary>
/// O2X's snapshot store on Akka.Persistence.Sql's <c>snapshot</c> table (created by that plugin, asked once at
/// start), with plain prepared SQL: loading the latest snapshot is on the recovery path of every entity, so
/// it is one indexed point query and nothing more. Interchangeable with Akka.Persistence.Sql's store.
/// </summary>
internal sealed class SqlSnapshotStore : SnapshotStore
{
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly ISnapshotRows _rows;
    private readonly StockPluginProbe _schema;

    public SqlSnapshotStore(Config config)
    {
        _serialization = Context.System.Serialization;
        _schema = StockPluginProbe.ForSnapshotStore(Context.System, config.GetString("schema-plugin", "akka.persistence.snapshot-store.sql"));
        var connectionString = config.GetString("connection-string") ?? throw new ConfigurationException("connection-string is required");
        _rows = config.GetString("provider", "sqlite") switch
        {
            "sqlite" => new SqliteSnapshotRows(connectionString),
            "postgresql" => new PostgresSnapshotRows(connectionString),
            var other => throw new ConfigurationException($"Unknown snapshot store provider '{other}' (sqlite or postgresql)."),
        };
    }

    protected override async Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        await _schema.ReadyAsync().ConfigureAwait(false);
        var row = await _rows.LatestAsync(persistenceId, Bounds(criteria), cancellationToken).ConfigureAwait(false);
        if (row is null) return null;
        var snapshot = _serialization.Deserialize(row.Payload, row.SerializerId, row.Manifest);
        return new SelectedSnapshot(new SnapshotMetadata(persistenceId, row.SequenceNr, new DateTime(row.Created, DateTimeKind.Utc)), snapshot);
    }

    protected override async Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken)
    {
        await _schema.ReadyAsync().ConfigureAwait(false);
        var serializer = _serialization.FindSerializerFor(snapshot);
        var manifest = serializer switch
        {
            SerializerWithStringManifest withManifest => withManifest.Manifest(snapshot),
            { IncludeManifest: true } => snapshot.GetType().TypeQualifiedName(),
            _ => string.Empty,
        };
        var row = new SnapshotRow(metadata.PersistenceId, metadata.SequenceNr, metadata.Timestamp.Ticks, serializer.ToBinary(snapshot), manifest,
            serializer.Identifier);
        await _rows.SaveAsync(row, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task DeleteAsync(SnapshotMetadata metadata, CancellationToken cancellationToken)
    {
        await _schema.ReadyAsync().ConfigureAwait(false);
        await _rows.DeleteAsync(metadata.PersistenceId, metadata.SequenceNr, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        await _schema.ReadyAsync().ConfigureAwait(false);
        await _rows.DeleteAsync(persistenceId, Bounds(criteria), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The connections close in the background (see <c>BatchingSqlJournal.PostStop</c>).</summary>
    protected override void PostStop()
    {
        _ = _rows.DisposeAsync().AsTask();
        base.PostStop();
    }

    private static SnapshotBounds Bounds(SnapshotSelectionCriteria criteria) => new(
        criteria.MinSequenceNr,
        criteria.MaxSequenceNr,
        criteria.MinTimestamp?.Ticks ?? 0,
        criteria.MaxTimeStamp.Ticks);
}
