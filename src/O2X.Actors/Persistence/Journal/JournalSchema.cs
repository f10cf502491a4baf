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
/// before, the two indexes are dropped in the background. With <c>O2X__Persistence__Journal=AkkaPersistenceSql</c> that plugin builds them again
/// at its first start, as it needs them for nothing either.
/// </remarks>
internal sealed class JournalSchema(IJournalStore store, StockPluginProbe stock, ILoggingAdapter log)
{
    /// <summary>The indexes of Akka.Persistence.Sql's journal schema that O2X's journal drops.</summary>
    public static readonly IReadOnlyList<string> UnusedIndexes = ["journal_created_idx", "journal_sequence_number_idx"];

    private readonly object _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task? _ready;
    private Task? _dropping;

    /// <summary>
    /// Completes once the tables exist; a failed attempt is retried by the next caller. The first success starts dropping the
    /// indexes in the background: writes need not wait for it.
    /// </summary>
    public Task ReadyAsync()
    {
        lock (_lock)
        {
            // On its own thread: Microsoft.Data.Sqlite's async calls run synchronously, and this lock is no place to wait for them.
            if (_ready is null || _ready.IsFaulted || _ready.IsCanceled) _ready = Task.Run(PrepareAsync);
            return _ready;
        }
    }

    /// <summary>Stops a drop still under way (the journal stops).</summary>
    public void Stop() => _stopping.Cancel();

    private async Task PrepareAsync()
    {
        if (!await store.TablesExistAsync(_stopping.Token).ConfigureAwait(false)) await stock.ReadyAsync().ConfigureAwait(false);
        lock (_lock) _dropping ??= Task.Run(DropAsync);
    }

    /// <summary>
    /// Up to three attempts, 5 s apart: on PostgreSQL each waits at most 1 s for the table's exclusive lock (<c>lock_timeout</c>),
    /// holding up the journal's other users as long, so it gives way to a long reader instead of queueing everyone behind it.
    /// </summary>
    private async Task DropAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var dropped = await store.DropIndexesAsync(UnusedIndexes, _stopping.Token).ConfigureAwait(false);
                if (dropped.Count > 0) log.Info("Dropped the journal's indexes {0}: no query of O2X's journal uses them", string.Join(", ", dropped));
                return;
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return; // the journal stopped: the next start tries again
            }
            catch (Exception ex) when (attempt < 3)
            {
                log.Debug("Dropping the journal's unused indexes failed ({0}); trying again in 5 s", ex.Message);
            }
            catch (Exception ex)
            {
                // Only slower writes: every event also updates them. Tried again at the journal's next start.
                log.Warning(ex, "Could not drop the journal's unused indexes {0}; the journal works with them, only slower", string.Join(", ", UnusedIndexes));
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
