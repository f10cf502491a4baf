using Akka.Actor;
using O2X.Actors.Persistence;

namespace O2X.Actors.Messaging.Retries;

/// <summary>
/// The top of a binding's supervision hierarchy: one <see cref="MessageRetrySupervisor"/> child per message
/// in flight (bounded by the binding's concurrency), each with its attempts below it.
/// </summary>
internal sealed class BindingRetrySupervisor : ReceiveActor
{
    public BindingRetrySupervisor(RetrySettings settings, DeliveryAttemptStore attempts, DeadLetterStore deadLetters)
    {
        Receive<ExecuteMessage>(message => Context.ActorOf(MessageRetrySupervisor.Props(message, Sender, settings, attempts, deadLetters)));
    }

    public static Props Props(RetrySettings settings, DeliveryAttemptStore attempts, DeadLetterStore deadLetters) =>
        Akka.Actor.Props.Create(() => new BindingRetrySupervisor(settings, attempts, deadLetters));

    /// <summary>A message supervisor never throws; if one does anyway, it is stopped (its asker times out and the
    /// transport redelivers) rather than restarted with half its state.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);
}
