using System.Threading.Channels;
using Akka.Streams;
using Akka.Streams.Dsl;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// The embedded transport behind HTTP ingestion: a bounded in-process queue feeding the handling flow of
/// one binding. <see cref="TryEnqueue"/> never blocks and never buffers beyond <c>capacity</c>: when the
/// queue is full it refuses, and the caller answers 503 with Retry-After (backpressure to the client).
/// </summary>
/// <remarks>
/// Guarantee: the task returned by <see cref="TryEnqueue"/> completes only after the handler's effect is
/// durable (or the message was rejected / failed). Delivery is at-most-once per HTTP call; clients retry
/// with the same <c>Idempotency-Key</c> to make it effectively-once.
/// </remarks>
internal sealed class IngestionQueue : IRequeueTarget, IAsyncDisposable
{
    private readonly Channel<Pending> _channel;
    private readonly Task _completion;

    public IngestionQueue(string queue, IMessageHandler handler, int capacity, HandlingSettings settings, IMaterializer materializer,
        IErrorQueue? errorQueue = null, IHandlingExecutor? executor = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Queue = queue;
        Capacity = capacity;
        _channel = Channel.CreateBounded<Pending>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite returns false when full; nothing is dropped silently
            SingleReader = true,
        });
        _completion = ChannelSource.FromReader(_channel.Reader)
            .Via(Handling.Flow(handler, (Pending p) => p.Envelope, settings, errorQueue, executor))
            .RunForeach(h => h.Delivery.Completion.TrySetResult(h.Outcome), materializer)
            .ContinueWith(FailPending, TaskScheduler.Default);
    }

    public string Queue { get; }

    public int Capacity { get; }

    /// <summary>Messages accepted but not yet handed to the handler.</summary>
    public int Waiting => _channel.Reader.Count;

    /// <summary>
    /// Queues the message; returns <c>null</c> when the queue is full or shutting down (nothing was queued).
    /// </summary>
    public Task<HandlingOutcome>? TryEnqueue(MessageEnvelope envelope)
    {
        var pending = new Pending(envelope, new TaskCompletionSource<HandlingOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        return _channel.Writer.TryWrite(pending) ? pending.Completion.Task : null;
    }

    /// <summary>Puts a message (e.g. a requeued dead letter) on this queue; its outcome goes where any outcome goes.</summary>
    public Task<bool> RequeueAsync(MessageEnvelope envelope, CancellationToken cancellation) => Task.FromResult(TryEnqueue(envelope) is not null);

    /// <summary>Stops accepting, lets queued and running messages finish, then completes.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _completion.ConfigureAwait(false);
    }

    private void FailPending(Task streamCompletion)
    {
        _channel.Writer.TryComplete();
        var reason = streamCompletion.Exception?.GetBaseException().Message ?? "ingestion stopped";
        while (_channel.Reader.TryRead(out var p))
            p.Completion.TrySetResult(new HandlingOutcome.Failed(nameof(IngestionQueue), reason));
    }

    private sealed record Pending(MessageEnvelope Envelope, TaskCompletionSource<HandlingOutcome> Completion);
}
