using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Actors.Persistence.Query;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>
/// Reads the events tagged <see cref="OutboundMapper.Tag"/> from the journal (in journal order, resuming at the
/// stored offset), maps them to outbound messages and appends them to the <see cref="OutboxStore"/> together
/// with the new offset. Runs as a cluster singleton: an Akka.Streams graph owned by this actor, restarted with
/// backoff (1 s doubling to 10 s) from the stored offset when the database fails, and stopped with it (kill switch).
/// </summary>
/// <remarks>
/// Guarantee: every outbound message derived from a persisted event appears in the outbox exactly once,
/// whatever crashes happen between the event's write and the projection (the offset and the messages are
/// one transaction; message ids are derived from the event's persistence id and sequence number).
/// </remarks>
internal sealed class OutboxProjection : ReceiveActor
{
    public const string ProjectionName = "outbox";

    private readonly OutboxStore _store;
    private readonly OutboxOptions _options;
    private readonly TaggedEventReader _reader;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private UniqueKillSwitch? _killSwitch;

    public OutboxProjection(OutboxStore store, OutboxOptions options, PersistenceOptions persistence)
    {
        _store = store;
        _options = options;
        _reader = TaggedEventReaders.Create(persistence);
    }

    public static Props Props(OutboxStore store, OutboxOptions options, PersistenceOptions persistence) =>
        Akka.Actor.Props.Create(() => new OutboxProjection(store, options, persistence));

    protected override void PreStart()
    {
        var serialization = Context.System.Serialization;
        var ct = _stop.Token;
        var (killSwitch, done) = RestartSource.WithBackoff(() => Batches(serialization, ct),
                RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 0.2))
            .ViaMaterialized(KillSwitches.Single<int>(), Keep.Right)
            .ToMaterialized(Sink.Ignore<int>(), Keep.Both)
            .Run(Context.Materializer());
        _killSwitch = killSwitch;
        var reader = _reader;
        done.ContinueWith(_ => reader.DisposeAsync().AsTask(), TaskScheduler.Default);
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _killSwitch?.Shutdown();
    }

    /// <summary>From the stored offset on: one element per outbox transaction (its message count), an empty poll waits first.</summary>
    private Source<int, NotUsed> Batches(Akka.Serialization.Serialization serialization, CancellationToken ct) =>
        Source.FromTask(_store.ReadOffsetAsync(ProjectionName, ct))
            .ConcatMany(start =>
            {
                _log.Info("Outbox projection resumes after journal ordering {0}", start);
                return Source.UnfoldAsync<long, int>(start, async offset =>
                {
                    try
                    {
                        var batch = await _reader.ReadAsync(OutboundMapper.Tag, offset, _options.BatchSize, ct);
                        if (batch.SafeOffset == offset)
                        {
                            await Task.Delay(_options.PollInterval, ct);
                            return Option<(long, int)>.Create((offset, 0));
                        }

                        var messages = batch.Events
                            .SelectMany(e => OutboundMapper.Map(serialization.Deserialize(e.Message, e.SerializerId, e.Manifest), e.PersistenceId, e.SequenceNr))
                            .ToList();
                        await _store.AppendAsync(ProjectionName, offset, batch.SafeOffset, messages, ct);
                        return Option<(long, int)>.Create((batch.SafeOffset, messages.Count));
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        _log.Warning("Outbox projection failed ({0}: {1}); resuming from the stored offset after a backoff", ex.GetType().Name,
                            TextExcerpt.Of(ex.Message, 256));
                        throw;
                    }
                });
            });
}
