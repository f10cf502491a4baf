namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// The SQL a journal needs, for one database engine. Writes a whole batch in one transaction; reads one
/// persistence id at a time. Tables and columns are Akka.Persistence.Sql's (default mapping, TagTable mode),
/// so its read journal and snapshot store work on the same data.
/// </summary>
internal interface IJournalStore : IAsyncDisposable
{
    /// <summary>
    /// Inserts the rows (and their tag rows) and runs the joined writes in one transaction; throws if the rows fail. A joined
    /// write whose statement fails is rolled back alone and recorded in its slot on SQLite, and fails the transaction on
    /// PostgreSQL (<see cref="JoinedWrites.RunAsync"/>). Records in <paramref name="phases"/> how long it waited for its turn to write
    /// and how long the commit took (the rest of the write's time is its statements).
    /// </summary>
    Task WriteAsync(IReadOnlyList<JournalRow> rows, IReadOnlyList<JoinedSlot> joined, WritePhases phases, CancellationToken ct);

    Task<long> ReadHighestSequenceNrAsync(string persistenceId, CancellationToken ct);

    /// <summary>Whether the tables <c>journal</c> and <c>tags</c> exist.</summary>
    Task<bool> TablesExistAsync(CancellationToken ct);

    /// <summary>Drops those of the indexes <paramref name="names"/> that exist (<see cref="JournalSchema"/>); returns their names.</summary>
    Task<IReadOnlyList<string>> DropIndexesAsync(IReadOnlyList<string> names, CancellationToken ct);

    /// <summary>Rows of a persistence id from/to (inclusive), not deleted, in sequence order, at most <paramref name="max"/>.</summary>
    Task ReadEventsAsync(string persistenceId, long from, long to, long max, Action<StoredEvent> onEvent, CancellationToken ct);

    /// <summary>Marks events up to <paramref name="toSequenceNr"/> deleted (they are kept so the highest sequence number survives).</summary>
    Task MarkDeletedAsync(string persistenceId, long toSequenceNr, CancellationToken ct);
}

internal sealed record StoredEvent(long SequenceNr, long Created, byte[] Message, string? Manifest, int? SerializerId, string? WriterUuid);
