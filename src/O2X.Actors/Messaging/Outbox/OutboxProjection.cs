using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>
/// Reads the events tagged <see cref="OutboundMapper.Tag"/> from the journal (events by tag, resuming at the
/// stored offset), maps them to outbound messages and appends them to the <see cref="OutboxStore"/> together
/// with the new offset. Runs as a cluster singleton; restarts with backoff when the database fails.
/// </summary>
/// <remarks>
/// Guarantee: every outbound message derived from a persisted event appears in the outbox exactly once,
/// whatever crashes happen between the event's write and the projection (the offset and the messages are
/// one transaction; message ids are derived from the event's persistence id and sequence number).
/// </remarks>
public sealed class OutboxProjection : ReceiveActor
{
    public const string ProjectionName = "outbox";

    private readonly OutboxStore _store;
    private readonly OutboxOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private UniqueKillSwitch? _killSwitch;

    public OutboxProjection(OutboxStore store, OutboxOptions options)
    {
        _store = store;
        _options = options;
        Receive<long>(_ => { }); // batches done (the stream reports progress to nobody else yet)
    }

    public static Props Props(OutboxStore store, OutboxOptions options) => Akka.Actor.Props.Create(() => new OutboxProjection(store, options));

    protected override void PreStart()
    {
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlPersistenceConfig.ReadJournalPluginId);
        var settings = RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2);
        _killSwitch = RestartSource.OnFailuresWithBackoff(() => Run(journal), settings)
            .ViaMaterialized(KillSwitches.Single<long>(), Keep.Right)
            .To(Sink.Ignore<long>())
            .Run(Context.Materializer());
    }

    protected override void PostStop() => _killSwitch?.Shutdown();

    private Source<long, NotUsed> Run(SqlReadJournal journal) =>
        Source.FromTask(_store.ReadOffsetAsync(ProjectionName)).ConcatMany(start =>
        {
            var current = start;
            _log.Info("Outbox projection resumes after journal ordering {0}", start);
            return journal.EventsByTag(OutboundMapper.Tag, Offset.Sequence(start))
                .GroupedWithin(_options.BatchSize, _options.PollInterval)
                .SelectAsync(1, async batch =>
                {
                    var envelopes = batch.ToList();
                    var last = ((Sequence)envelopes[^1].Offset).Value;
                    var messages = envelopes.SelectMany(e => OutboundMapper.Map(e.Event, e.PersistenceId, e.SequenceNr)).ToList();
                    try
                    {
                        await _store.AppendAsync(ProjectionName, current, last, messages).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        _log.Warning(ex, "Outbox projection could not store {0} messages up to ordering {1}; it will resume from the stored offset",
                            messages.Count, last);
                        throw;
                    }

                    current = last;
                    return last;
                });
        });
}
