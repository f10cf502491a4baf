using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Actors.Messaging.Bindings;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>Registry key of the outbox relay singleton.</summary>
internal sealed class OutboxRelaySingleton;

/// <summary>
/// Publishes the outbox of each broker-bound destination (<c>O2X:Destinations:{NAME}</c>) to its broker, in
/// outbox order, and stores how far it got (offset <c>relay:{destination}</c>) once the broker confirmed the
/// batch. Runs as a cluster singleton, so one node publishes; the publishers live and die with it. Each destination is
/// an Akka.Streams graph owned by this actor: restarted with backoff (1 s doubling to 30 s) when the broker or the
/// database fails, stopped with the actor (kill switch).
/// </summary>
/// <remarks>
/// Guarantee: at least once, in order per destination. A crash of the process between the broker's confirmation and
/// the stored offset, or a broker that took a batch but lost the connection before confirming it, publishes the batch
/// again with the same message ids (<c>arc-…</c>, <c>rsp-…</c>, …) for consumers to deduplicate. A database outage
/// does not: what the broker confirmed is remembered and recorded when the database is back. A broker or database
/// that is down holds the relay back (1 s doubling to 30 s); the outbox keeps everything.
/// </remarks>
internal sealed class OutboxRelay : ReceiveActor
{
    public const string OffsetPrefix = "relay:";

    private readonly OutboxStore _store;
    private readonly OutboxOptions _options;
    private readonly IReadOnlyDictionary<string, Func<IOutboundPublisher>> _publishers;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(UniqueKillSwitch KillSwitch, IOutboundPublisher Publisher, Task Done)> _streams = [];

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
        var materializer = Context.Materializer();
        foreach (var (destination, create) in _publishers)
        {
            var publisher = create();
            var progress = new Progress();
            _log.Info("Outbox relay publishes {0}", destination);
            var (killSwitch, done) = RestartSource.WithBackoff(() => Published(destination, publisher, progress, _stop.Token),
                    RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2))
                .ViaMaterialized(KillSwitches.Single<int>(), Keep.Right)
                .ToMaterialized(Sink.Ignore<int>(), Keep.Both)
                .Run(materializer);
            _streams.Add((killSwitch, publisher, done));
        }
    }

    /// <summary>
    /// Stops the streams and closes their publishers (broker connections, Kafka producers) once each stream has ended, or after
    /// a second. Not on the stream's completion alone: the streams run on this actor's materializer, so they are torn down
    /// with it — before this runs — without completing their sink's task, and the publishers stayed connected (a Kafka
    /// producer kept reconnecting to its brokers) until the process ended. The second lets a publish still being cancelled
    /// by <see cref="_stop"/> end before its publisher closes.
    /// </summary>
    protected override void PostStop()
    {
        _stop.Cancel();
        foreach (var (killSwitch, publisher, done) in _streams)
        {
            killSwitch.Shutdown();
            _ = Task.WhenAny(done, Task.Delay(TimeSpan.FromSeconds(1))).ContinueWith(_ => publisher.DisposeAsync().AsTask(), TaskScheduler.Default).Unwrap();
        }
    }

    /// <summary>
    /// How far the broker has confirmed in this process. It outlives the stream's restarts, so that a database outage
    /// between "confirmed" and "offset stored" records the progress when the database is back instead of publishing the
    /// batch again (only a crash of the process itself still republishes).
    /// </summary>
    private sealed class Progress
    {
        public long Confirmed;
    }

    /// <summary>From the stored offset on: one element per published batch (its size), an empty poll waits first.</summary>
    private Source<int, NotUsed> Published(string destination, IOutboundPublisher publisher, Progress progress, CancellationToken ct)
    {
        var name = OffsetPrefix + destination;
        return Source.FromTask(_store.ReadOffsetAsync(name, ct)).ConcatMany(start => Source.UnfoldAsync<long, int>(start, async offset =>
        {
            try
            {
                if (progress.Confirmed > offset)
                {
                    await _store.MoveReaderOffsetAsync(name, offset, progress.Confirmed, ct);
                    offset = progress.Confirmed;
                }

                var batch = await _store.ReadAsync(destination, offset, _options.BatchSize, ct);
                if (batch.Count == 0)
                {
                    await Task.Delay(_options.PollInterval, ct);
                    return Option<(long, int)>.Create((offset, 0));
                }

                // In order, on one connection, confirmations awaited together (see IOutboundPublisher).
                await publisher.PublishBatchAsync([.. batch.Select(m =>
                    new OutboundEnvelope(m.MessageId, m.CorrelationId, System.Text.Encoding.UTF8.GetBytes(m.Payload), m.Headers))], ct);
                progress.Confirmed = batch[^1].Position;
                await _store.MoveReaderOffsetAsync(name, offset, progress.Confirmed, ct);
                return Option<(long, int)>.Create((progress.Confirmed, batch.Count));
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                _log.Warning("Outbox relay to {0} failed ({1}: {2}); retrying after a backoff from the stored offset or what the broker confirmed", destination,
                    ex.GetType().Name, TextExcerpt.Of(ex.Message, 256));
                throw;
            }
        }));
    }
}
