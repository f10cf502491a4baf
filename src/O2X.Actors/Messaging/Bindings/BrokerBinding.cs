using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using O2X.Streams.Connectors;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>What a broker binding settles with its broker, per outcome.</summary>
internal sealed record BrokerBindingSettings
{
    public static readonly BrokerBindingSettings Default = new();

    /// <summary>Messages over this size are refused (<c>INVALID_MESSAGE</c>) without running the handler.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// How long a message whose handling <see cref="HandlingOutcome.Failed"/> (retry bookkeeping or the error queue
    /// unavailable, shutdown) is held before it is given back to the broker: it is then redelivered at most this
    /// often instead of spinning.
    /// </summary>
    public TimeSpan ReleaseDelay { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>Counters of a running binding, for metrics and the admin API (monotonic, thread-safe).</summary>
internal sealed class BindingCounters
{
    private long _received, _acked, _released, _rejected, _deadLettered, _duplicates, _inFlight;

    public long Received => Interlocked.Read(ref _received);
    public long Acked => Interlocked.Read(ref _acked);
    public long Released => Interlocked.Read(ref _released);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long DeadLettered => Interlocked.Read(ref _deadLettered);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Raised after each settled message with its outcome and the time from receipt to settlement.</summary>
    public event Action<HandlingOutcome, TimeSpan>? Settled;

    internal void OnReceived()
    {
        Interlocked.Increment(ref _received);
        Interlocked.Increment(ref _inFlight);
    }

    internal void OnSettled(HandlingOutcome outcome, TimeSpan latency)
    {
        Interlocked.Decrement(ref _inFlight);
        // Every outcome but Failed is acknowledged; some are also counted by kind.
        Interlocked.Increment(ref outcome is HandlingOutcome.Failed ? ref _released : ref _acked);
        if (outcome is HandlingOutcome.Rejected) Interlocked.Increment(ref _rejected);
        else if (outcome is HandlingOutcome.DeadLettered) Interlocked.Increment(ref _deadLettered);
        else if (outcome is HandlingOutcome.Duplicate) Interlocked.Increment(ref _duplicates);

        Settled?.Invoke(outcome, latency);
    }
}

/// <summary>A queue binding running on a broker source.</summary>
internal sealed record RunningBinding(string Queue, IConsumerControl Control, Task Completion, BindingCounters Counters);

/// <summary>
/// Runs a queue binding on a committable broker source: each message becomes a <see cref="MessageEnvelope"/>,
/// goes through <see cref="Dsl.Handling.Flow{TDelivery}"/> (handler, retries, error queue), and is then settled
/// by its outcome — acknowledged when the outcome is final (processed, duplicate, refused and recorded in the error
/// queue, dead-lettered), given back to the broker when it <see cref="HandlingOutcome.Failed"/> (after
/// <see cref="BrokerBindingSettings.ReleaseDelay"/>). Nothing is acknowledged before its effect is durable; the
/// handling flow never fails because of a message, so a poison message cannot stop the binding.
/// </summary>
internal static class BrokerBinding
{
    public static RunningBinding Run<TMessage>(
        string queue,
        Source<Committable<TMessage>, IConsumerControl> source,
        Func<TMessage, MessageEnvelope> envelopeOf,
        IMessageHandler handler,
        HandlingSettings handling,
        BrokerBindingSettings settings,
        IMaterializer materializer,
        IErrorQueue? errorQueue = null,
        IHandlingExecutor? executor = null,
        CancellationToken stopping = default)
    {
        var counters = new BindingCounters();
        var guarded = new MessageSizeGuard(handler, settings.MaxMessageBytes);
        var (control, completion) = source
            .Select(c =>
            {
                counters.OnReceived();
                return c;
            })
            .Via(Handling.Flow(guarded, (Committable<TMessage> c) => envelopeOf(c.Message), handling, errorQueue, executor, stopping))
            .SelectAsync(handling.MaxHeld, async handled =>
            {
                var outcome = handled.Outcome;
                try
                {
                    if (outcome is HandlingOutcome.Failed)
                    {
                        await DelayQuietly(settings.ReleaseDelay, stopping).ConfigureAwait(false);
                        await handled.Delivery.Handle.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    else
                    {
                        await handled.Delivery.Handle.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
                catch (Exception ex)
                {
                    // The connection went away under the settlement: the broker redelivers the message, and its effect
                    // (if any) is recognised by message id. The binding keeps running; the message counts as released.
                    outcome = new HandlingOutcome.Failed(ex.GetType().Name, "Settlement failed: " + ex.Message);
                }

                counters.OnSettled(outcome, DateTimeOffset.UtcNow - handled.Envelope.ReceivedAt);
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(materializer);
        return new RunningBinding(queue, control, completion, counters);
    }

    private static async Task DelayQuietly(TimeSpan delay, CancellationToken stopping)
    {
        // On shutdown the message is given back at once: the broker redelivers it to whoever consumes next.
        await Task.WhenAny(Task.Delay(delay, stopping)).ConfigureAwait(false);
    }
}
