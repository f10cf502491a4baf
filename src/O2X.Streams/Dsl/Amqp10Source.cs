using Akka.Streams.Dsl;
using O2X.Streams.Amqp10;
using O2X.Streams.Connectors;

namespace O2X.Streams.Dsl;

/// <summary>Sources consuming from an AMQP 1.0 broker through AMQPNetLite.</summary>
public static class Amqp10Source
{
    /// <summary>
    /// At-least-once consumption. A message is settled only through its handle: accepted
    /// (<see cref="ICommitHandle.CommitAsync"/>), released for redelivery (<see cref="ICommitHandle.ReleaseAsync"/>) or
    /// rejected (<see cref="ICommitHandle.RejectAsync"/>). Link credit bounds the unsettled messages (memory stays
    /// bounded with a slow downstream). On connection or link loss the source reconnects with backoff; messages
    /// sent on the lost link and not settled are redelivered by the broker. <see cref="IConsumerControl.StopAsync"/>
    /// drains: release what was not emitted, wait until the emitted ones are settled, close.
    /// </summary>
    public static Source<Committable<Amqp10Message>, IConsumerControl> Committable(Amqp10SourceSettings settings) =>
        Source.FromGraph(new Amqp10SourceStage(settings));

    /// <summary>At-most-once: each message is accepted as it is emitted.</summary>
    public static Source<Amqp10Message, IConsumerControl> AtMostOnce(Amqp10SourceSettings settings) =>
        Committable(settings).SelectAsync(1, async c =>
        {
            await c.Handle.CommitAsync().ConfigureAwait(false);
            return c.Message;
        });
}

/// <summary>Flows publishing to an AMQP 1.0 address, waiting for the settled outcome.</summary>
public static class Amqp10Flow
{
    /// <summary>Publishes each message and emits it once the broker accepted it; up to <paramref name="maxInFlight"/> at once, in order.</summary>
    public static Flow<Amqp10Message, Amqp10Message, Akka.NotUsed> PublishWithOutcome(Amqp10Publisher publisher, int maxInFlight = 256) =>
        Flow.Create<Amqp10Message>().SelectAsync(maxInFlight, async message =>
        {
            await publisher.PublishAsync(message).ConfigureAwait(false);
            return message;
        });
}
