using Akka.Streams.Dsl;
using O2X.Streams.Connectors;
using O2X.Streams.Stomp;

namespace O2X.Streams.Dsl;

/// <summary>Sources consuming from a STOMP 1.2 broker (ActiveMQ, Amazon MQ).</summary>
public static class StompSource
{
    /// <summary>
    /// At-least-once consumption with <c>ack:client-individual</c>. A message is settled only through its handle:
    /// acknowledged (<see cref="ICommitHandle.CommitAsync"/>: <c>ACK</c>), refused to the broker's dead-letter queue
    /// (<see cref="ICommitHandle.RejectAsync"/>: <c>NACK</c>), or given back for redelivery (<see cref="ICommitHandle.ReleaseAsync"/>:
    /// ActiveMQ redelivers only when the consumer goes, so the source reconnects once the other messages in flight are settled).
    /// <see cref="StompSourceSettings.Prefetch"/> bounds the unacknowledged messages. On connection loss the source reconnects
    /// with backoff to the first endpoint that answers (active/standby); what was delivered and not acknowledged comes back
    /// with the same <c>message-id</c>. <see cref="IConsumerControl.StopAsync"/> drains.
    /// </summary>
    public static Source<Committable<StompMessage>, IConsumerControl> Committable(StompSourceSettings settings) =>
        Source.FromGraph(new StompSourceStage(settings));

    /// <summary>At-most-once: each message is acknowledged as it is emitted.</summary>
    public static Source<StompMessage, IConsumerControl> AtMostOnce(StompSourceSettings settings) =>
        Committable(settings).SelectAsync(1, async c =>
        {
            await c.Handle.CommitAsync().ConfigureAwait(false);
            return c.Message;
        });
}

/// <summary>Flows publishing to a STOMP destination, waiting for the broker's receipt.</summary>
public static class StompFlow
{
    /// <summary>Publishes each message and emits it once the broker sent its receipt; up to <paramref name="maxInFlight"/> at once, in order.</summary>
    public static Flow<StompMessage, StompMessage, Akka.NotUsed> PublishWithReceipt(StompPublisher publisher, int maxInFlight = 256) =>
        Flow.Create<StompMessage>().SelectAsync(maxInFlight, async message =>
        {
            await publisher.PublishAsync(message).ConfigureAwait(false);
            return message;
        });
}
