using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Retries;

/// <summary>
/// One attempt at a message: its plan through the binding's circuit breaker, bounded by the attempt timeout. A business
/// refusal is an outcome (it never trips the breaker and is never retried); anything else that goes wrong is thrown.
/// The first attempt runs inline in the binding's stream (<see cref="SupervisedRetryExecutor"/>); later ones in an
/// <see cref="AttemptWorker"/> under the message's supervisor.
/// </summary>
internal static class Attempt
{
    public static Task<HandlingOutcome> RunAsync(HandlingPlan plan, BindingCircuitBreaker breaker, TimeSpan timeout, CancellationToken cancellation) =>
        breaker.ExecuteAsync(token => RunOnceAsync(plan, timeout, token, cancellation), cancellation);

    private static async Task<HandlingOutcome> RunOnceAsync(HandlingPlan plan, TimeSpan timeout, CancellationToken breakerToken, CancellationToken cancellation)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(breakerToken, cancellation);
        limit.CancelAfter(timeout);
        try
        {
            return await plan.Execute(limit.Token).WaitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (NonRetryableException refusal)
        {
            return new HandlingOutcome.Rejected(refusal.ErrorCode, refusal.Message);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            throw new RetryableException($"The attempt did not finish within {timeout.TotalSeconds:0.#} s.");
        }
    }
}
