using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Actors.Persistence.Query;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>
/// Reads the events tagged <see cref="OutboundMapper.Tag"/> from the journal (in journal order, resuming at the
/// stored offset), maps them to outbound messages and appends them to the <see cref="OutboxStore"/> together
/// with the new offset — and, in the same transaction, keeps the provisioning watch the watchdog reads. Runs as a cluster singleton: an Akka.Streams graph owned by this actor, restarted with
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
        _killSwitch = TaggedProjection.Run(() => Batches(serialization, ct), _reader, Context.Materializer());
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _killSwitch?.Shutdown();
    }

    /// <summary>From the stored offset on: one element per outbox transaction (its message count), an empty poll waits first.</summary>
    private Source<int, NotUsed> Batches(Akka.Serialization.Serialization serialization, CancellationToken ct) =>
        TaggedProjection.Batches(ProjectionName, OutboundMapper.Tag, _reader, token => _store.ReadOffsetAsync(ProjectionName, token),
            async (offset, batch, token) =>
            {
                var messages = new List<OutboundMessage>(batch.Events.Count * 2);
                var watch = new List<Orders.ProvisioningWatchChange>();
                foreach (var e in batch.Events)
                {
                    var @event = serialization.Deserialize(e.Message, e.SerializerId, e.Manifest);
                    messages.AddRange(OutboundMapper.Map(@event, e.PersistenceId, e.SequenceNr));
                    if (Orders.ProvisioningWatchChange.Of(@event) is { } change) watch.Add(change);
                }

                await _store.AppendAsync(ProjectionName, offset, batch.SafeOffset, messages, watch, token);
                return messages.Count;
            }, _options.BatchSize, _options.PollInterval, _log, ct);
}
