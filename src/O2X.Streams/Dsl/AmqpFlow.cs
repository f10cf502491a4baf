using Akka;
using Akka.Streams.Dsl;
using O2X.Streams.Amqp;

namespace O2X.Streams.Dsl;

/// <summary>Flows and sinks publishing to an AMQP 0-9-1 broker with publisher confirms.</summary>
public static class AmqpFlow
{
    /// <summary>
    /// Publishes each message and emits it once the broker confirmed it. Up to
    /// <see cref="AmqpPublishSettings.MaxOutstandingConfirms"/> publishes are in flight (the broker confirms them in
    /// batches); output order is input order. A nack or connection failure fails the stream — wrap it in a
    /// restart if publishing must go on.
    /// </summary>
    public static Flow<AmqpMessage, AmqpMessage, NotUsed> PublishWithConfirm(AmqpPublisher publisher, int maxOutstanding = 256) =>
        Flow.Create<AmqpMessage>().SelectAsync(maxOutstanding, async message =>
        {
            await publisher.PublishAsync(message).ConfigureAwait(false);
            return message;
        });

    /// <summary>A sink that completes (its task) when every message was confirmed.</summary>
    public static Sink<AmqpMessage, Task<Done>> Publish(AmqpPublisher publisher, int maxOutstanding = 256) =>
        PublishWithConfirm(publisher, maxOutstanding).ToMaterialized(Sink.Ignore<AmqpMessage>(), Keep.Right);
}
