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
/// Guarantee: at least once, in order per destination. A crash of the process between the broker's confirmation and
/// the stored offset, or a broker that took a batch but lost the connection before confirming it, publishes the batch
/// again with the same message ids (<c>arc-…</c>, <c>rsp-…</c>, …) for consumers to deduplicate. A database outage
/// does not: what the broker confirmed is remembered and recorded when the database is back. A broker or database
/// that is down holds the relay back (1 s doubling to 30 s); the outbox keeps everything.
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
        // How far the broker has confirmed in this process. Kept across failures of the database, so that an
        // outage between "confirmed" and "offset stored" records the progress when the database is back instead
        // of publishing the batch again (only a crash of the process itself still republishes).
        long confirmed = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var offset = await _store.ReadOffsetAsync(name, ct);
                if (confirmed > offset)
                {
                    await _store.AppendAsync(name, offset, confirmed, [], ct);
                    offset = confirmed;
                }

                while (!ct.IsCancellationRequested)
                {
                    var batch = await _store.ReadAsync(destination, offset, _options.BatchSize, ct);
                    if (batch.Count == 0)
                    {
                        await Task.Delay(_options.PollInterval, ct);
                        continue;
                    }

                    // In order, on one connection, confirmations awaited together (see IOutboundPublisher).
                    await publisher.PublishBatchAsync([.. batch.Select(m =>
                        new OutboundEnvelope(m.MessageId, m.CorrelationId, System.Text.Encoding.UTF8.GetBytes(m.Payload), m.Headers))], ct);
                    confirmed = batch[^1].Position;
                    await _store.AppendAsync(name, offset, confirmed, [], ct);
                    offset = confirmed;
                    backoff = TimeSpan.FromSeconds(1);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log.Warning("Outbox relay to {0} failed ({1}: {2}); retrying in {3} from the stored offset or what the broker confirmed", destination,
                    ex.GetType().Name, ex.Message, backoff);
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
