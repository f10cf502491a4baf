using Akka.Actor;
using Akka.Event;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Streams.Bindings;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>Registry key of the outbox relay singleton.</summary>
public sealed class OutboxRelaySingleton;

/// <summary>
/// Publishes the outbox of each broker-bound destination (<c>O2X:Destinations:{NAME}</c>) to its broker, in
/// outbox order, and stores how far it got (offset <c>relay:{destination}</c>) once the broker confirmed the
/// batch. Runs as a cluster singleton, so one node publishes; the publishers live and die with it.
/// </summary>
/// <remarks>
/// Guarantee: at least once, in order per destination. A crash between the broker's confirmation and the stored
/// offset publishes the batch again with the same message ids (<c>arc-…</c>, <c>rsp-…</c>, …) for consumers to
/// deduplicate. A broker that is down holds the relay back (1 s doubling to 30 s); the outbox keeps everything.
/// </remarks>
public sealed class OutboxRelay : ReceiveActor
{
    public const string OffsetPrefix = "relay:";

    private readonly OutboxStore _store;
    private readonly OutboxOptions _options;
    private readonly IReadOnlyDictionary<string, Func<IOutboundPublisher>> _publishers;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    public OutboxRelay(OutboxStore store, OutboxOptions options, IReadOnlyDictionary<string, Func<IOutboundPublisher>> publishers)
    {
        _store = store;
        _options = options;
        _publishers = publishers;
    }

    public static Props Props(OutboxStore store, OutboxOptions options, IReadOnlyDictionary<string, Func<IOutboundPublisher>> publishers) =>
        Akka.Actor.Props.Create(() => new OutboxRelay(store, options, publishers));

    protected override void PreStart()
    {
        foreach (var (destination, create) in _publishers)
            _loops.Add(Task.Run(() => RelayAsync(destination, create, _stop.Token)));
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        Task.WaitAll([.. _loops], TimeSpan.FromSeconds(15));
        _stop.Dispose();
    }

    private async Task RelayAsync(string destination, Func<IOutboundPublisher> create, CancellationToken ct)
    {
        var name = OffsetPrefix + destination;
        await using var publisher = create();
        _log.Info("Outbox relay publishes {0}", destination);
        var backoff = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var offset = await _store.ReadOffsetAsync(name, ct);
                while (!ct.IsCancellationRequested)
                {
                    var batch = await _store.ReadAsync(destination, offset, _options.BatchSize, ct);
                    if (batch.Count == 0)
                    {
                        await Task.Delay(_options.PollInterval, ct);
                        continue;
                    }

                    // Issued in order on one publisher; confirmations are awaited together (the connector batches them).
                    await Task.WhenAll(batch.Select(m => publisher.PublishAsync(
                        new OutboundEnvelope(m.MessageId, m.CorrelationId, System.Text.Encoding.UTF8.GetBytes(m.Payload), m.Headers), ct)));
                    await _store.AppendAsync(name, offset, batch[^1].Position, [], ct);
                    offset = batch[^1].Position;
                    backoff = TimeSpan.FromSeconds(1);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log.Warning("Outbox relay to {0} failed ({1}: {2}); retrying from the stored offset in {3}", destination, ex.GetType().Name, ex.Message, backoff);
                try
                {
                    await Task.Delay(backoff, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}
