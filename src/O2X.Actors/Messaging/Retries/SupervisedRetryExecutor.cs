using Akka.Actor;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Retries;

/// <summary>
/// Runs a message's first attempt inline, in the binding's stream — no actor is created for a message that succeeds or is
/// refused — and hands a message whose first attempt failed to the binding's <see cref="BindingRetrySupervisor"/>:
/// retries with backoff, the cluster-wide attempt count, dead-lettering. Bounded by the retry budget; past it (or on
/// shutdown) the outcome is <see cref="HandlingOutcome.Failed"/> and the transport keeps the message.
/// </summary>
internal sealed class SupervisedRetryExecutor : IHandlingExecutor
{
    private readonly IActorRef _supervisor;
    private readonly RetrySettings _settings;
    private readonly CancellationTokenSource _systemGone = new();

    public SupervisedRetryExecutor(ActorSystem system, IActorRef supervisor, RetrySettings settings)
    {
        _supervisor = supervisor;
        _settings = settings;
        // Asks to an actor system that has terminated never complete: end them when it goes.
        system.WhenTerminated.ContinueWith(_ => _systemGone.Cancel(), TaskScheduler.Default);
    }

    public async Task<HandlingOutcome> ExecuteAsync(MessageEnvelope envelope, HandlingPlan plan, CancellationToken cancellation)
    {
        // Off the stream's own thread: the handler's work up to its first await must not run one message at a time.
        await Task.Yield();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _systemGone.Token);
        budget.CancelAfter(_settings.Budget);
        Exception failure;
        try
        {
            return await Attempt.RunAsync(plan, _settings.Breaker, _settings.AttemptTimeout, budget.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            return Stopped();
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        if (OutcomeClassifier.FromException(failure, _settings.Exceptions) is HandlingOutcome.Rejected refused) return refused;
        try
        {
            // The supervisor answers within the budget (its cancelled path included); the budget also ends the ask if the
            // actor system went away underneath.
            return await _supervisor.Ask<HandlingOutcome>(new ExecuteMessage(envelope, plan, budget.Token, failure), null, budget.Token)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or OperationCanceledException)
        {
            return new HandlingOutcome.Failed(ex.GetType().FullName ?? ex.GetType().Name, "The retry supervisor did not answer: " + ex.Message);
        }
    }

    private static HandlingOutcome.Failed Stopped() => new(nameof(OperationCanceledException),
        "Stopped before the message was handled (shutdown or time limit); it stays unacknowledged.");
}
