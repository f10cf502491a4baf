using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>Registry key of the outbox retention singleton.</summary>
internal sealed class OutboxRetentionSingleton;

/// <summary>Published on the event stream when a retention pass deleted messages of a destination (the node's metrics count them).</summary>
internal sealed record OutboxPruned(string Destination, long Count);

/// <summary>
/// Keeps the outbox from growing with every message ever sent: every <see cref="OutboxOptions.RetentionInterval"/> it deletes the
/// messages older than <see cref="OutboxOptions.Retention"/>. A broker-bound destination loses only what its relay has published
/// (positions up to its offset <c>relay:{destination}</c>): a broker that is down for longer than the retention keeps its messages
/// in the outbox until they are sent. A destination read over HTTP goes by age alone. Runs as a cluster singleton, as an
/// Akka.Streams graph owned by this actor: restarted with backoff (1 s doubling to 30 s) when the database fails, stopped with the
/// actor (kill switch).
/// </summary>
internal sealed class OutboxRetention : ReceiveActor
{
    /// <summary>
    /// Messages per delete statement: each is a transaction of its own and, on SQLite, holds the database's only write lock while it
    /// runs, so order intake's group commits go on between chunks.
    /// </summary>
    public const int Chunk = 500;

    private readonly OutboxStore _store;
    private readonly OutboxOptions _options;
    private readonly IReadOnlyCollection<string> _destinations;
    private readonly IReadOnlySet<string> _relayed;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private UniqueKillSwitch? _killSwitch;

    public OutboxRetention(OutboxStore store, OutboxOptions options, IReadOnlyCollection<string> destinations, IReadOnlySet<string> relayed)
    {
        _store = store;
        _options = options;
        _destinations = destinations;
        _relayed = relayed;
    }

    /// <param name="destinations">Every destination the outbox holds messages for.</param>
    /// <param name="relayed">Those of them the outbox relay publishes to a broker.</param>
    public static Props Props(OutboxStore store, OutboxOptions options, IReadOnlyCollection<string> destinations, IReadOnlySet<string> relayed) =>
        Akka.Actor.Props.Create(() => new OutboxRetention(store, options, destinations, relayed));

    protected override void PreStart()
    {
        _log.Info("Outbox retention: messages older than {0} go (checked every {1}); broker-bound destinations only once published ({2})",
            _options.Retention, _options.RetentionInterval, _relayed.Count == 0 ? "none" : string.Join(", ", _relayed.Order(StringComparer.Ordinal)));
        var events = Context.System.EventStream;
        _killSwitch = RestartSource.WithBackoff(() => Source.Tick(_options.RetentionInterval, _options.RetentionInterval, NotUsed.Instance)
                    .SelectAsync(1, _ => PassAsync(events, _stop.Token)),
                RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2))
            .ViaMaterialized(KillSwitches.Single<long>(), Keep.Right)
            .To(Sink.Ignore<long>())
            .Run(Context.Materializer());
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _killSwitch?.Shutdown();
    }

    /// <summary>One pass over every destination; the number of messages it deleted.</summary>
    private async Task<long> PassAsync(EventStream events, CancellationToken ct)
    {
        var createdBefore = DateTime.UtcNow - _options.Retention;
        long total = 0;
        foreach (var destination in _destinations)
        {
            try
            {
                var upTo = _relayed.Contains(destination) ? await _store.ReadOffsetAsync(OutboxRelay.OffsetPrefix + destination, ct) : long.MaxValue;
                if (upTo <= 0) continue;
                var deleted = await _store.PruneAsync(destination, upTo, createdBefore, Chunk, ct);
                if (deleted == 0) continue;
                total += deleted;
                events.Publish(new OutboxPruned(destination, deleted));
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                _log.Warning("Outbox retention of {0} failed ({1}: {2}); retrying after a backoff", destination, ex.GetType().Name,
                    TextExcerpt.Of(ex.Message, 256));
                throw;
            }
        }

        if (total > 0) _log.Debug("Outbox retention deleted {0} messages created before {1:O}", total, createdBefore);
        return total;
    }
}
