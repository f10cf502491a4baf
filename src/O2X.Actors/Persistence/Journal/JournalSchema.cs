using Akka.Event;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// The journal's tables are Akka.Persistence.Sql's (<c>journal</c>, <c>tags</c>), so that an operator can switch back to its
/// journal, less two of the indexes its schema adds: <c>journal_created_idx</c> and <c>journal_sequence_number_idx</c>. No
/// query of O2X's journal, reader or bill run uses them (they read by persistence id and sequence number, the unique key, or
/// by ordering, the primary key), yet every event paid for both (measured: docs/benchmarks.md, "Seventeenth pass").
/// </summary>
/// <remarks>
/// Akka.Persistence.Sql's journal creates its tables on first use and its indexes on every start (<c>CREATE INDEX IF NOT
/// EXISTS</c>), which on a journal of millions of events would build them again, minutes of blocked writes. So it is started
/// (through <see cref="StockPluginProbe"/>) only when the tables are missing; then, and on a database that has them from
/// before, the two indexes are dropped. With <c>O2X__Persistence__Journal=AkkaPersistenceSql</c> that plugin builds them again
/// at its first start, as it needs them for nothing either.
/// </remarks>
internal sealed class JournalSchema(IJournalStore store, StockPluginProbe stock, ILoggingAdapter log)
{
    /// <summary>The indexes of Akka.Persistence.Sql's journal schema that O2X's journal drops.</summary>
    public static readonly IReadOnlyList<string> UnusedIndexes = ["journal_created_idx", "journal_sequence_number_idx"];

    private readonly object _lock = new();
    private Task? _ready;

    /// <summary>Completes once the tables exist without the unused indexes; a failed attempt is retried by the next caller.</summary>
    public Task ReadyAsync()
    {
        lock (_lock)
        {
            if (_ready is null || _ready.IsFaulted || _ready.IsCanceled) _ready = PrepareAsync();
            return _ready;
        }
    }

    private async Task PrepareAsync()
    {
        if (!await store.TablesExistAsync(CancellationToken.None).ConfigureAwait(false)) await stock.ReadyAsync().ConfigureAwait(false);
        try
        {
            var dropped = await store.DropIndexesAsync(UnusedIndexes, CancellationToken.None).ConfigureAwait(false);
            if (dropped.Count > 0) log.Info("Dropped the journal's indexes {0}: no query of O2X's journal uses them", string.Join(", ", dropped));
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException)
        {
            // Only slower writes: every event also updates them. Tried again at the journal's next start.
            log.Warning(ex, "Could not drop the journal's unused indexes {0}; the journal works with them, only slower", string.Join(", ", UnusedIndexes));
        }
    }
}
