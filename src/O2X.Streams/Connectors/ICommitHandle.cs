namespace O2X.Streams.Connectors;

/// <summary>
/// Settles one consumed message with its broker. Call exactly one of the two, once the message's effect is
/// durable (or it was refused): a committable source never settles on its own.
/// </summary>
public interface ICommitHandle
{
    /// <summary>Done with: AMQP ack / accept, Kafka offset commit (batched).</summary>
    ValueTask CommitAsync(CancellationToken cancellation = default);

    /// <summary>Not done: give it back for redelivery (AMQP nack with requeue / release; Kafka: seek back).</summary>
    ValueTask ReleaseAsync(CancellationToken cancellation = default);

    /// <summary>
    /// Refused for good, to the broker's own dead-lettering where it has one (AMQP 0-9-1 reject without requeue →
    /// the queue's dead-letter exchange; AMQP 1.0 rejected outcome). Kafka has none: the offset is committed.
    /// </summary>
    ValueTask RejectAsync(CancellationToken cancellation = default);
}

/// <summary>A consumed message with its commit handle.</summary>
public sealed record Committable<TMessage>(TMessage Message, ICommitHandle Handle);
