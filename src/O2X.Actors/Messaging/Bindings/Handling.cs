using Akka;
using Akka.Streams.Dsl;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// Factories for the transport-neutral handling step of a queue binding.
/// </summary>
internal static class Handling
{
    /// <summary>
    /// A flow that plans and runs <paramref name="handler"/> for each delivery and emits it with its outcome.
    /// Per ordering key, messages run one at a time in arrival order; across keys up to
    /// <see cref="HandlingSettings.Parallelism"/> run at once. The flow never fails because of a message:
    /// exceptions become <see cref="HandlingOutcome.Rejected"/> or <see cref="HandlingOutcome.Failed"/>.
    /// A rejected message is emitted only after <paramref name="errorQueue"/> recorded it; if that fails the
    /// outcome is <see cref="HandlingOutcome.Failed"/> (not acknowledged, so not lost). <paramref name="executor"/>
    /// decides about retries (default: one attempt); a message waiting for its retry keeps its key busy.
    /// Emission order follows completion, so commit stages must not assume source order.
    /// </summary>
    public static Flow<TDelivery, Handled<TDelivery>, NotUsed> Flow<TDelivery>(
        IMessageHandler handler,
        Func<TDelivery, MessageEnvelope> envelopeOf,
        HandlingSettings settings,
        IErrorQueue? errorQueue = null,
        IHandlingExecutor? executor = null,
        CancellationToken stopping = default)
    {
        executor ??= SingleAttemptExecutor.Instance;
        var observer = settings.Observer;
        return Akka.Streams.Dsl.Flow.Create<TDelivery>()
            .Select(delivery =>
            {
                var envelope = envelopeOf(delivery);
                observer?.Started(envelope);
                return Plan(handler, envelope, delivery);
            })
            .Via(new KeyedSelectAsync<Planned<TDelivery>, Handled<TDelivery>>(
                settings.Parallelism,
                settings.MaxHeld,
                p => p.Key,
                async p =>
                {
                    var handled = await Run(p, executor, errorQueue, stopping).ConfigureAwait(false);
                    observer?.Completed(handled.Envelope, handled.Outcome, System.Diagnostics.Stopwatch.GetElapsedTime(p.Started));
                    return handled;
                }));
    }

    private static Planned<TDelivery> Plan<TDelivery>(IMessageHandler handler, MessageEnvelope envelope, TDelivery delivery)
    {
        try
        {
            var plan = handler.Plan(envelope);
            return new Planned<TDelivery>(delivery, envelope, plan.OrderingKey, plan, null, System.Diagnostics.Stopwatch.GetTimestamp());
        }
        catch (Exception ex)
        {
            // Rejected at planning time: keyed by message id so it never waits behind another message.
            return new Planned<TDelivery>(delivery, envelope, "\0" + envelope.MessageId, null, OutcomeClassifier.FromPlanningException(ex),
                System.Diagnostics.Stopwatch.GetTimestamp());
        }
    }

    private static async Task<Handled<TDelivery>> Run<TDelivery>(Planned<TDelivery> planned, IHandlingExecutor executor, IErrorQueue? errorQueue,
        CancellationToken stopping)
    {
        HandlingOutcome outcome;
        try
        {
            outcome = planned.Plan is null ? planned.Rejection! : await executor.ExecuteAsync(planned.Envelope, planned.Plan, stopping).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            outcome = OutcomeClassifier.FromException(ex);
        }

        if (outcome is HandlingOutcome.Rejected rejected && errorQueue is not null)
        {
            try
            {
                await errorQueue.RecordAsync(planned.Envelope, rejected, stopping).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                outcome = new HandlingOutcome.Failed(ex.GetType().FullName ?? ex.GetType().Name,
                    $"{rejected.ErrorCode} could not be recorded in the error queue: {ex.Message}");
            }
        }

        return new Handled<TDelivery>(planned.Delivery, planned.Envelope, outcome);
    }

    private sealed record Planned<TDelivery>(
        TDelivery Delivery, MessageEnvelope Envelope, string Key, HandlingPlan? Plan, HandlingOutcome? Rejection, long Started);
}
