using Akka.Streams.Dsl;
using O2X.Streams.Amqp;
using O2X.Streams.Connectors;

namespace O2X.Streams.Dsl;

/// <summary>Sources consuming from an AMQP 0-9-1 broker (RabbitMQ) through RabbitMQ.Client.</summary>
public static class AmqpSource
{
    /// <summary>
    /// At-least-once consumption. Each element carries a handle; a message is acknowledged only when the
    /// pipeline calls <see cref="ICommitHandle.CommitAsync"/> (or requeued with
    /// <see cref="ICommitHandle.ReleaseAsync"/>). At most <see cref="AmqpSourceSettings.Prefetch"/> messages are
    /// unacknowledged at once (basic.qos): a slow downstream leaves the rest in the broker, memory stays bounded.
    /// Acknowledgements go out as multiple-acks over the contiguous completed prefix. On connection loss the
    /// source reconnects with backoff and goes on; whatever was not acknowledged is redelivered by the broker
    /// (handles of the lost channel become no-ops). <see cref="IConsumerControl.StopAsync"/> drains: it stops
    /// taking messages, waits for the emitted ones to be settled, acknowledges, and closes.
    /// </summary>
    public static Source<Committable<AmqpMessage>, IConsumerControl> Committable(AmqpSourceSettings settings) =>
        Source.FromGraph(new AmqpSourceStage(settings));

    /// <summary>
    /// At-most-once consumption: each message is acknowledged as it is emitted, before the pipeline handles it.
    /// A crash loses what was emitted and not yet handled; nothing is ever delivered twice by this source.
    /// </summary>
    public static Source<AmqpMessage, IConsumerControl> AtMostOnce(AmqpSourceSettings settings) =>
        Committable(settings).SelectAsync(1, async c =>
        {
            await c.Handle.CommitAsync().ConfigureAwait(false);
            return c.Message;
        });
}
