using Akka.Actor;
using O2X.Actors.Hosting;
using O2X.Streams.Bindings;
using O2X.Streams.Messaging;

namespace O2X.Actors.Messaging.Retries;

/// <summary>
/// One attempt at handling one message, through the binding's circuit breaker. An outcome (including a
/// business refusal) goes to the parent; an exception kills this actor, and the parent's supervisor strategy
/// decides what happens next.
/// </summary>
internal sealed class AttemptWorker : ReceiveActor
{
    private readonly HandlingPlan _plan;
    private readonly BindingCircuitBreaker _breaker;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _cancellation;

    public AttemptWorker(HandlingPlan plan, BindingCircuitBreaker breaker, TimeSpan timeout, CancellationToken cancellation)
    {
        _plan = plan;
        _breaker = breaker;
        _timeout = timeout;
        _cancellation = cancellation;
        Receive<HandlingOutcome>(outcome =>
        {
            Context.Parent.Tell(new AttemptSucceeded(outcome));
            Context.Stop(Self);
        });
        Receive<Status.Failure>(failure => throw new AttemptFailedException(failure.Cause));
    }

    public static Props Props(HandlingPlan plan, BindingCircuitBreaker breaker, TimeSpan timeout, CancellationToken cancellation) =>
        FactoryProps.Of(() => new AttemptWorker(plan, breaker, timeout, cancellation));

    protected override void PreStart() => _breaker.ExecuteAsync(RunAsync, _cancellation).PipeTo(Self);

    private async Task<HandlingOutcome> RunAsync(CancellationToken breakerToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(breakerToken, _cancellation);
        limit.CancelAfter(_timeout);
        try
        {
            return await _plan.Execute(limit.Token).WaitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (NonRetryableException refusal)
        {
            // A business refusal is an outcome, not a failure: it must not trip the breaker or be retried.
            return new HandlingOutcome.Rejected(refusal.ErrorCode, refusal.Message);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !_cancellation.IsCancellationRequested)
        {
            throw new RetryableException($"The attempt did not finish within {_timeout.TotalSeconds:0.#} s.");
        }
    }
}
