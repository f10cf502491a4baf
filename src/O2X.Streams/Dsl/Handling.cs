using Akka;
using Akka.Streams.Dsl;
using O2X.Streams.Bindings;
using O2X.Streams.Messaging;
using O2X.Streams.Stages;

namespace O2X.Streams.Dsl;

/// <summary>
/// Factories for the transport-neutral handling step of a queue binding.
/// </summary>
public static class Handling
{
    /// <summary>
    /// A flow that plans and runs <paramref name="handler"/> for each delivery and emits it with its outcome.
    /// Per ordering key, messages run one at a time in arrival order; across keys up to
    /// <see cref="HandlingSettings.Parallelism"/> run at once. The flow never fails because of a message:
    /// exceptions become <see cref="HandlingOutcome.Rejected"/> or <see cref="HandlingOutcome.Failed"/>.
    /// Emission order follows completion, so commit stages must not assume source order.
    /// </summary>
    public static Flow<TDelivery, Handled<TDelivery>, NotUsed> Flow<TDelivery>(
        IMessageHandler handler,
        Func<TDelivery, MessageEnvelope> envelopeOf,
        HandlingSettings settings,
        CancellationToken stopping = default)
    {
        return Akka.Streams.Dsl.Flow.Create<TDelivery>()
            .Select(delivery => Plan(handler, envelopeOf(delivery), delivery))
            .Via(new KeyedSelectAsync<Planned<TDelivery>, Handled<TDelivery>>(
                settings.Parallelism,
                settings.MaxHeld,
                p => p.Key,
                p => Run(p, stopping)));
    }

    private static Planned<TDelivery> Plan<TDelivery>(IMessageHandler handler, MessageEnvelope envelope, TDelivery delivery)
    {
        try
        {
            var plan = handler.Plan(envelope);
            return new Planned<TDelivery>(delivery, envelope, plan.OrderingKey, plan, null);
        }
        catch (Exception ex)
        {
            // Rejected at planning time: keyed by message id so it never waits behind another message.
            return new Planned<TDelivery>(delivery, envelope, "\0" + envelope.MessageId, null, OutcomeClassifier.FromException(ex));
        }
    }

    private static async Task<Handled<TDelivery>> Run<TDelivery>(Planned<TDelivery> planned, CancellationToken stopping)
    {
        if (planned.Plan is null) return new Handled<TDelivery>(planned.Delivery, planned.Envelope, planned.Rejection!);
        HandlingOutcome outcome;
        try
        {
            outcome = await planned.Plan.Execute(stopping).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            outcome = OutcomeClassifier.FromException(ex);
        }

        return new Handled<TDelivery>(planned.Delivery, planned.Envelope, outcome);
    }

    private sealed record Planned<TDelivery>(
        TDelivery Delivery, MessageEnvelope Envelope, string Key, HandlingPlan? Plan, HandlingOutcome? Rejection);
}
