namespace O2X.Streams.Connectors;

/// <summary>
/// A broker connection (or channel, or link) opened on first use and reopened on the first use after it broke,
/// with the backoff of <see cref="ReconnectBackoff"/> between failed attempts — so that a publisher whose
/// broker is down fails fast rather than hammering it. Thread-safe; the state is reported on <see cref="Status"/>.
/// </summary>
internal sealed class ReconnectingResource<T> : IAsyncDisposable where T : class
{
    private readonly Func<CancellationToken, Task<T>> _open;
    private readonly Func<T, bool> _isOpen;
    private readonly Func<T, Task> _close;
    private readonly ReconnectBackoff _backoff;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _disposing = new();
    private T? _current;
    private Task? _opening;
    private readonly List<TaskCompletionSource<T>> _waiting = [];
    private DateTimeOffset _nextAttempt;
    private int _failures;
    private bool _disposed;

    /// <param name="open">Opens the resource; on failure it must release what it opened itself.</param>
    /// <param name="isOpen">Whether an opened resource is still usable.</param>
    /// <param name="close">Closes a resource, usable or broken; must not throw for an already broken one.</param>
    public ReconnectingResource(string name, Func<CancellationToken, Task<T>> open, Func<T, bool> isOpen, Func<T, Task> close, ReconnectBackoff backoff)
    {
        _open = open;
        _isOpen = isOpen;
        _close = close;
        _backoff = backoff;
        Status = new ConnectionStatus(name);
    }

    public ConnectionStatus Status { get; }

    /// <summary>
    /// The open resource, opening it first when needed. Callers that arrive while it is being opened share that one attempt and
    /// are resumed one after the other, in the order they called, each running until its first await — so that publishes
    /// issued in order are also sent in order on the new connection.
    /// </summary>
    public ValueTask<T> GetAsync(CancellationToken cancellation)
    {
        // The fast path only when no attempt is under way: while one is, everybody queues, so nobody overtakes a waiter.
        if (Volatile.Read(ref _opening) is null && Volatile.Read(ref _current) is { } open && _isOpen(open)) return new ValueTask<T>(open);
        // Completed synchronously (no RunContinuationsAsynchronously): the awaiting caller resumes inline, in queue order.
        var waiter = new TaskCompletionSource<T>();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_opening is null && _current is { } reopened && _isOpen(reopened)) return new ValueTask<T>(reopened);
            _waiting.Add(waiter);
            _opening ??= OpenAndResumeAsync();
        }

        if (cancellation.CanBeCanceled) cancellation.Register(() => waiter.TrySetCanceled(cancellation));
        return new ValueTask<T>(waiter.Task);
    }

    /// <summary>
    /// Opens (unless the resource is still usable) and resumes the waiters in order; repeats while callers keep arriving (they
    /// queue behind the attempt), and only then lets callers take the fast path again.
    /// </summary>
    private async Task OpenAndResumeAsync()
    {
        await Task.Yield(); // never open on the caller's thread while it holds the lock
        while (true)
        {
            T? opened = null;
            Exception? failure = null;
            if (Volatile.Read(ref _current) is { } usable && _isOpen(usable))
            {
                opened = usable;
            }
            else
            {
                try
                {
                    opened = await OpenAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
            }

            List<TaskCompletionSource<T>> waiting;
            lock (_gate)
            {
                if (_waiting.Count == 0 || _disposed)
                {
                    foreach (var left in _waiting) left.TrySetException(new ObjectDisposedException(nameof(ReconnectingResource<T>)));
                    _waiting.Clear();
                    _opening = null;
                    return;
                }

                waiting = [.. _waiting];
                _waiting.Clear();
            }

            foreach (var waiter in waiting)
                if (failure is null) waiter.TrySetResult(opened!);
                else waiter.TrySetException(failure);
        }
    }

    private async Task<T> OpenAsync()
    {
        var cancellation = _disposing.Token;
        var wait = _nextAttempt - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellation).ConfigureAwait(false);
        // Broken while idle (nobody reported it): it counts as a loss all the same.
        if (_current is not null && Status.State == ConnectionState.Connected) Status.Set(ConnectionState.Reconnecting, "connection lost");
        await CloseCurrentAsync().ConfigureAwait(false);
        try
        {
            var opened = await _open(cancellation).ConfigureAwait(false);
            _failures = 0;
            Volatile.Write(ref _current, opened);
            Status.Set(ConnectionState.Connected);
            return opened;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            _failures++;
            _nextAttempt = DateTimeOffset.UtcNow + _backoff.Delay(_failures);
            Status.Set(ConnectionState.Reconnecting, ex.Message);
            throw;
        }
    }

    /// <summary>Reports that the resource broke while in use; the next <see cref="GetAsync"/> reopens it.</summary>
    public void ReportBroken(string reason) => Status.Set(ConnectionState.Reconnecting, reason);

    private async Task CloseCurrentAsync()
    {
        var current = _current;
        _current = null;
        if (current is null) return;
        try
        {
            await _close(current).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Closing what the broker or the network already broke: nothing more to release, but say so.
            Status.RecordError("closing: " + ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? opening;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            opening = _opening;
        }

        _disposing.Cancel();
        if (opening is not null)
        {
            try
            {
                await opening.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Its failure was reported on the status (or it was cancelled by this dispose): nothing to close but what it opened.
            }
        }

        await CloseCurrentAsync().ConfigureAwait(false);
        Status.Set(ConnectionState.Stopped);
        _disposing.Dispose();
    }
}
