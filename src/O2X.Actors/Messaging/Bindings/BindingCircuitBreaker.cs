using Akka.Actor;
using Akka.Pattern;

namespace O2X.Actors.Messaging.Bindings;

internal enum BreakerState { Closed, Open, HalfOpen }

/// <summary>
/// A circuit breaker around a binding's downstream dependencies (journal, outbound sink), on Akka's
/// <see cref="CircuitBreaker"/>: after <c>maxFailures</c> consecutive attempts failed because a dependency did
/// (<see cref="IsDependencyFailure"/>: the database, the broker, the file store, a timeout) it opens. A message's own
/// failure — a defect, a bug its handler hits, a file that has not arrived — passes through without counting: no single
/// message can open the breaker and take the node out of readiness. While open,
/// <see cref="ExecuteAsync{T}"/> waits instead of calling — so the binding's in-flight slots fill up and it
/// stops pulling from its source (messages stay in the broker) — until the reset timeout lets one probe
/// through (half-open); its success closes the breaker, its failure opens it again for longer.
/// </summary>
internal sealed class BindingCircuitBreaker
{
    private readonly CircuitBreaker _breaker;
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(250);
    private readonly object _lock = new();
    private TaskCompletionSource _callable = Completed();
    private int _probing;

    public BindingCircuitBreaker(IScheduler scheduler, int maxFailures, TimeSpan callTimeout, TimeSpan resetTimeout, TimeSpan maxResetTimeout)
    {
        _breaker = new CircuitBreaker(scheduler, maxFailures, callTimeout, resetTimeout, maxResetTimeout, exponentialBackoffFactor: 2.0);
        // Akka notifies listeners asynchronously and possibly out of order, so waiters also re-check the state
        // themselves; the signal only saves them the wait.
        _breaker.OnOpen(() => StateChanged?.Invoke(BreakerState.Open));
        _breaker.OnHalfOpen(() =>
        {
            Release();
            StateChanged?.Invoke(BreakerState.HalfOpen);
        });
        _breaker.OnClose(() =>
        {
            Release();
            StateChanged?.Invoke(BreakerState.Closed);
        });
    }

    public BreakerState State => _breaker.IsOpen ? BreakerState.Open : _breaker.IsHalfOpen ? BreakerState.HalfOpen : BreakerState.Closed;

    /// <summary>Raised on every transition (from the breaker's thread).</summary>
    public event Action<BreakerState>? StateChanged;

    /// <summary>Whether a failure says a dependency is unavailable (and so counts towards opening the breaker).</summary>
    public static bool IsDependencyFailure(Exception exception) => exception switch
    {
        AggregateException { InnerExceptions.Count: 1 } aggregate => IsDependencyFailure(aggregate.InnerExceptions[0]),
        Messaging.RetryableException retryable => retryable.IsDependencyFailure,
        TimeoutException or System.Data.Common.DbException or System.Net.Sockets.SocketException => true,
        FileNotFoundException or DirectoryNotFoundException => false,
        IOException => true,
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="attempt"/> when the breaker allows it; exceptions that are <see cref="IsDependencyFailure"/> count
    /// as failures, others are passed on to the caller without touching the breaker.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellation)
    {
        var outcome = await ExecuteCountingAsync(async token =>
        {
            try
            {
                return (Value: await attempt(token).ConfigureAwait(false), Error: (Exception?)null);
            }
            catch (Exception ex) when (!IsDependencyFailure(ex))
            {
                return (Value: default(T)!, Error: ex);
            }
        }, cancellation).ConfigureAwait(false);
        if (outcome.Error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return outcome.Value;
    }

    private async Task<T> ExecuteCountingAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellation)
    {
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            if (_breaker.IsOpen)
            {
                await WaitForChangeAsync(cancellation).ConfigureAwait(false);
                continue;
            }

            var probe = _breaker.IsHalfOpen;
            if (probe && Interlocked.CompareExchange(ref _probing, 1, 0) != 0)
            {
                // Another call is probing: wait for its verdict.
                await WaitForChangeAsync(cancellation).ConfigureAwait(false);
                continue;
            }

            try
            {
                return await _breaker.WithCircuitBreaker(attempt).ConfigureAwait(false);
            }
            catch (OpenCircuitException)
            {
                // Opened between our check and the call: wait for the next half-open.
            }
            finally
            {
                if (probe) Volatile.Write(ref _probing, 0);
            }
        }
    }

    private async Task WaitForChangeAsync(CancellationToken cancellation)
    {
        Task signal;
        lock (_lock)
        {
            if (_callable.Task.IsCompleted) _callable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = _callable.Task;
        }

        await Task.WhenAny(signal, Task.Delay(RecheckInterval, cancellation)).ConfigureAwait(false);
        cancellation.ThrowIfCancellationRequested();
    }

    private void Release()
    {
        TaskCompletionSource callable;
        lock (_lock) callable = _callable;
        callable.TrySetResult();
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }
}
