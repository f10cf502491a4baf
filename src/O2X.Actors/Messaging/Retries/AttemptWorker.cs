using Akka.Actor;
using O2X.Actors.Hosting;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Retries;

/// <summary>
/// A retry of one message (<see cref="Attempt"/>), as a child of its <see cref="MessageRetrySupervisor"/>. An outcome
/// (including a business refusal) goes to the parent; an exception kills this actor, and the parent's supervisor
/// strategy decides what happens next.
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

    protected override void PreStart() => Attempt.RunAsync(_plan, _breaker, _timeout, _cancellation).PipeTo(Self);
}
