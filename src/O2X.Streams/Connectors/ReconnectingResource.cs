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
    private readonly SemaphoreSlim _lock = new(1, 1);
    private T? _current;
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

    public async ValueTask<T> GetAsync(CancellationToken cancellation)
    {
        if (Volatile.Read(ref _current) is { } open && _isOpen(open)) return open;
        await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current is { } reopened && _isOpen(reopened)) return reopened;
            // Broken while idle (nobody reported it): it counts as a loss all the same.
            if (_current is not null && Status.State == ConnectionState.Connected) Status.Set(ConnectionState.Reconnecting, "connection lost");
            var wait = _nextAttempt - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellation).ConfigureAwait(false);
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
        finally
        {
            _lock.Release();
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
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            await CloseCurrentAsync().ConfigureAwait(false);
            Status.Set(ConnectionState.Stopped);
        }
        finally
        {
            _lock.Release();
        }
    }
}
