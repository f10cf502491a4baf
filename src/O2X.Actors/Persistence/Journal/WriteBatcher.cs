using System.Diagnostics;
using System.Threading.Channels;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// Group commit: every write request waiting when the database becomes free is written in one transaction
/// (up to <c>maxBatchRows</c>). Under load this turns thousands of small transactions per second into a
/// few large ones; with one waiting request it adds no delay. A request's task completes only after its
/// transaction committed. If a batch fails, its requests are retried one by one so that one bad write
/// (e.g. a duplicate sequence number) cannot fail the others.
/// </summary>
/// <remarks>
/// One writer per node, also on PostgreSQL: measured with 1, 2 and 4 concurrent writers, one was fastest
/// (its batches are larger; docs/benchmarks.md).
/// </remarks>
internal sealed class WriteBatcher : IAsyncDisposable
{
    private readonly IJournalStore _store;
    private readonly Func<Task> _ready;
    private readonly int _maxBatchRows;
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly JournalObservers? _observers;
    private readonly WritePhases _phases = new();
    private readonly Task _loop;

    /// <param name="observers">Told of every group commit (the node's metrics); null for none.</param>
    public WriteBatcher(IJournalStore store, Func<Task> ready, int maxBatchRows, JournalObservers? observers = null)
    {
        _store = store;
        _ready = ready;
        _maxBatchRows = maxBatchRows;
        _observers = observers;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Completes when <paramref name="rows"/> (one atomic write) are committed; faults if they were not.</summary>
    public Task WriteAsync(IReadOnlyList<JournalRow> rows) => Enqueue(new Request(rows, null, NewDone(), Stopwatch.GetTimestamp()));

    /// <summary>Runs <paramref name="write"/> in the next group commit; completes when it committed.</summary>
    public Task JoinAsync(IJoinedWrite write) => Enqueue(new Request([], new JoinedSlot(write), NewDone(), Stopwatch.GetTimestamp()));

    private static TaskCompletionSource NewDone() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task Enqueue(Request request)
    {
        if (!_requests.Writer.TryWrite(request)) request.Done.SetException(new JournalStoppedException("The journal is shutting down."));
        return request.Done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<Request>();
        var rows = new List<JournalRow>();
        var joined = new List<JoinedSlot>();
        while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            rows.Clear();
            joined.Clear();
            while (rows.Count + joined.Count < _maxBatchRows && _requests.Reader.TryRead(out var request))
            {
                batch.Add(request);
                rows.AddRange(request.Rows);
                if (request.Joined is { } slot) joined.Add(slot);
            }

            var started = Stopwatch.GetTimestamp();
            _phases.Reset();
            try
            {
                await _ready().ConfigureAwait(false);
                await InlineWrites.ReadyAsync(rows, _stopping.Token).ConfigureAwait(false);
                await _store.WriteAsync(rows, joined, _phases, _stopping.Token).ConfigureAwait(false);
                Report(batch.Count, rows.Count, batch[0].Enqueued, started, failed: false);
                foreach (var request in batch) Complete(request);
            }
            catch (Exception) when (batch.Count > 1)
            {
                Report(batch.Count, rows.Count, batch[0].Enqueued, started, failed: true);
                await WriteOneByOneAsync(batch).ConfigureAwait(false);
            }
            catch (Exception failure)
            {
                Report(batch.Count, rows.Count, batch[0].Enqueued, started, failed: true);
                batch[0].Done.TrySetException(failure);
            }
        }
    }

    private async Task WriteOneByOneAsync(List<Request> batch)
    {
        foreach (var request in batch)
        {
            var started = Stopwatch.GetTimestamp();
            _phases.Reset();
            try
            {
                await InlineWrites.ReadyAsync(request.Rows, _stopping.Token).ConfigureAwait(false);
                await _store.WriteAsync(request.Rows, request.Joined is { } slot ? [slot] : [], _phases, _stopping.Token).ConfigureAwait(false);
                Report(1, request.Rows.Count, request.Enqueued, started, failed: false);
                Complete(request);
            }
            catch (Exception failure)
            {
                Report(1, request.Rows.Count, request.Enqueued, started, failed: true);
                request.Done.TrySetException(failure);
            }
        }
    }

    /// <summary>
    /// Tells the observer (if any) what this write took: the oldest request's wait for the writer, the store's wait for its turn,
    /// its commit, and the rest (readiness checks and statements) as the statements' share.
    /// </summary>
    private void Report(int requests, int rows, long oldestEnqueued, long started, bool failed)
    {
        if (_observers?.Current is null) return;
        var statements = Stopwatch.GetElapsedTime(started) - _phases.Gate - _phases.Commit;
        _observers.GroupCommitted(new GroupCommit(requests, rows, Stopwatch.GetElapsedTime(oldestEnqueued, started), _phases.Gate,
            statements > TimeSpan.Zero ? statements : TimeSpan.Zero, _phases.Commit, failed));
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        while (_requests.Reader.TryRead(out var left)) left.Done.TrySetException(new JournalStoppedException("The journal stopped."));
        _stopping.Dispose();
    }

    /// <summary>The transaction committed: the request succeeded, unless its joined write was rolled back alone.</summary>
    private static void Complete(Request request)
    {
        if (request.Joined?.Failure is { } failure) request.Done.TrySetException(failure);
        else request.Done.TrySetResult();
    }

    private sealed record Request(IReadOnlyList<JournalRow> Rows, JoinedSlot? Joined, TaskCompletionSource Done, long Enqueued);
}
