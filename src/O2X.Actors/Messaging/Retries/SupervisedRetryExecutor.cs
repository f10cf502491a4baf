using Akka.Actor;
using O2X.Streams.Bindings;
using O2X.Streams.Messaging;

namespace O2X.Actors.Messaging.Retries;

/// <summary>
/// Runs each message under the binding's <see cref="BindingRetrySupervisor"/>: retries with backoff, the
/// cluster-wide attempt count, dead-lettering. Bounded by the retry budget; past it (or on shutdown) the
/// outcome is <see cref="HandlingOutcome.Failed"/> and the transport keeps the message.
/// </summary>
public sealed class SupervisedRetryExecutor : IHandlingExecutor
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
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _systemGone.Token);
        budget.CancelAfter(_settings.Budget);
        try
        {
            // The supervisor answers within the budget (its cancelled path included); the budget also ends the ask if the
            // actor system went away underneath.
            return await _supervisor.Ask<HandlingOutcome>(new ExecuteMessage(envelope, plan, budget.Token), null, budget.Token)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or OperationCanceledException)
        {
            return new HandlingOutcome.Failed(ex.GetType().FullName ?? ex.GetType().Name, "The retry supervisor did not answer: " + ex.Message);
        }
    }
}
