using System.Data.Common;

namespace O2X.Actors.Persistence.Query;

/// <summary>An event read by tag, still serialized.</summary>
internal sealed record TaggedEvent(long Ordering, string PersistenceId, long SequenceNr, byte[] Message, string Manifest, int SerializerId);

/// <summary>
/// Tagged events after an ordering, and how far a reader may safely advance its offset.
/// <see cref="SafeOffset"/> may be beyond the last event (the orderings in between carry no such tag).
/// </summary>
internal sealed record TaggedBatch(IReadOnlyList<TaggedEvent> Events, long SafeOffset);

/// <summary>
/// Reads tagged events from Akka.Persistence.Sql's tables in journal order, with index range scans. An
/// ordering is only passed once every smaller ordering is visible: on PostgreSQL concurrent transactions
/// commit out of order, so a missing ordering may still appear; the reader waits for such a gap and only
/// treats it as permanent (a rolled-back insert) after <c>gapTimeout</c> (<see cref="GapTracker"/>). Nothing is ever
/// skipped that could still be committed within that time.
/// </summary>
internal abstract class TaggedEventReader : IAsyncDisposable
{
    private const string OrderingsSql = "SELECT ordering FROM journal WHERE ordering > @after ORDER BY ordering LIMIT @n";

    /// <summary>The events with a tag in a range of orderings, in journal order; <c>{0}</c> is how the tag is compared.</summary>
    protected const string TaggedSqlFormat =
        "SELECT j.ordering, j.persistence_id, j.sequence_number, j.message, j.manifest, j.identifier FROM tags t " +
        "JOIN journal j ON j.ordering = t.ordering_id WHERE {0} = @tag AND t.ordering_id > @after AND t.ordering_id <= @upto " +
        "ORDER BY t.ordering_id LIMIT @max";

    /// <summary>The query of <see cref="TaggedSqlFormat"/> for this database.</summary>
    protected virtual string TaggedSql { get; } = string.Format(System.Globalization.CultureInfo.InvariantCulture, TaggedSqlFormat, "t.tag");

    private readonly GapTracker _gaps;
    private readonly TimeProvider _time;

    protected TaggedEventReader(TimeSpan gapTimeout, TimeProvider? time = null)
    {
        _gaps = new GapTracker(gapTimeout);
        _time = time ?? TimeProvider.System;
    }

    public async Task<TaggedBatch> ReadAsync(string tag, long after, int max, CancellationToken ct)
    {
        long upto;
        try
        {
            upto = await SafeUpToAsync(after, max, ct);
        }
        catch (Exception ex) when (JournalTables.AreMissing(ex))
        {
            // A fresh database: the journal creates its tables with the first event. Nothing to read yet.
            return new TaggedBatch([], after);
        }

        if (upto <= after) return new TaggedBatch([], after);

        var events = await QueryAsync(TaggedSql, [("tag", tag), ("after", after), ("upto", upto), ("max", max)], r => new TaggedEvent(
            r.GetInt64(0), r.GetString(1), r.GetInt64(2), (byte[])r.GetValue(3), r.IsDBNull(4) ? string.Empty : r.GetString(4), r.GetInt32(5)), ct);
        return new TaggedBatch(events, events.Count == max ? events[^1].Ordering : upto);
    }

    /// <summary>
    /// The highest ordering up to which every ordering is visible or known to be permanently missing: here from the
    /// orderings after <paramref name="after"/> (a gap may be a transaction still in flight).
    /// </summary>
    protected virtual async Task<long> SafeUpToAsync(long after, int max, CancellationToken ct) =>
        SafeUpTo(after, await QueryAsync(OrderingsSql, [("after", after), ("n", Math.Max(1_000, max * 10))], r => r.GetInt64(0), ct));

    private long SafeUpTo(long after, IReadOnlyList<long> orderings) => _gaps.SafeUpTo(after, orderings, _time.GetUtcNow());

    protected abstract Task<List<T>> QueryAsync<T>(string sql, (string Name, object Value)[] parameters, Func<DbDataReader, T> read, CancellationToken ct);

    public abstract ValueTask DisposeAsync();
}

/// <summary>Creates the reader for the configured database.</summary>
internal static class TaggedEventReaders
{
    /// <summary>Longer than any journal transaction takes; a gap older than this was a rolled-back insert.</summary>
    public static readonly TimeSpan GapTimeout = TimeSpan.FromSeconds(10);

    public static TaggedEventReader Create(Hosting.PersistenceOptions options) => options.EffectiveProvider switch
    {
        Hosting.PersistenceProvider.Sqlite => new SqliteTaggedEventReader(options.EffectiveConnectionString, GapTimeout),
        _ => new PostgresTaggedEventReader(options.EffectiveConnectionString, GapTimeout),
    };
}
