using O2X.Actors.Messaging.Bindings;

namespace O2X.Actors.Messaging.Retries;

/// <summary>How one binding retries: seed §5.2 backoff, which exceptions count, where dead letters go.</summary>
/// <param name="DeadLetterDestination">Outbound destination that gets a copy of every dead letter (e.g. <c>OMS.DLQ</c>), or none.</param>
/// <param name="AttemptTimeout">Longest one attempt may take before it counts as failed.</param>
internal sealed record RetrySettings(
    string Queue,
    RetryPolicy Policy,
    ExceptionPolicy Exceptions,
    BindingCircuitBreaker Breaker,
    string? DeadLetterDestination,
    TimeSpan AttemptTimeout)
{
    /// <summary>
    /// Called (queue, failed attempt number, the delay asked of the scheduler) each time a retry is scheduled,
    /// for metrics and for tests of the schedule; must not throw.
    /// </summary>
    public Action<string, int, TimeSpan>? OnRetryScheduled { get; init; }

    /// <summary>Longest a message may spend with the supervisor: every attempt at its limit plus every delay at its maximum.</summary>
    public TimeSpan Budget => Policy.WorstCaseTotalDelay() + AttemptTimeout * (Policy.MaxRedeliveries + 1) + TimeSpan.FromSeconds(5);
}
