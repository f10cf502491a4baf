namespace O2X.Actors.Serialization;

/// <summary>
/// Marker for everything that is persisted (events, snapshots) or sent between nodes (commands, queries,
/// replies). Bound to <see cref="O2XSerializer"/>; every implementing type must have a manifest in
/// <see cref="O2XManifests"/> — nothing goes through a reflection-based default serializer.
/// </summary>
internal interface IO2XMessage;
