namespace O2X.Actors.Persistence.Journal;

/// <summary>One event as stored in Akka.Persistence.Sql's <c>journal</c> table (default table mapping).</summary>
internal sealed record JournalRow(
    string PersistenceId,
    long SequenceNr,
    long Created,
    byte[] Message,
    string Manifest,
    int SerializerId,
    string WriterUuid,
    IReadOnlyCollection<string> Tags);
