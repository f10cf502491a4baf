namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// One event as stored in Akka.Persistence.Sql's <c>journal</c> table (default table mapping), and what an inline projection
/// writes beside it in the same transaction (<see cref="IInlineProjection"/>).
/// </summary>
internal sealed record JournalRow(
    string PersistenceId,
    long SequenceNr,
    long Created,
    byte[] Message,
    string Manifest,
    int SerializerId,
    string WriterUuid,
    IReadOnlyCollection<string> Tags,
    InlineRows? Inline = null);
