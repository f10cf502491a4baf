using Akka.Actor;
using Akka.Event;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Actors.Persistence.Query;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>
/// Reads the events tagged <see cref="OutboundMapper.Tag"/> from the journal (in journal order, resuming at the
/// stored offset), maps them to outbound messages and appends them to the <see cref="OutboxStore"/> together
/// with the new offset. Runs as a cluster singleton; when the database fails it backs off (1 s doubling to
/// 10 s) and resumes from the stored offset.
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
    private readonly TaggedEventReader _reader;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

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
        _loop = Task.Run(() => RunAsync(serialization, _stop.Token));
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _loop?.Wait(TimeSpan.FromSeconds(10));
        _reader.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private async Task RunAsync(Akka.Serialization.Serialization serialization, CancellationToken ct)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var offset = await _store.ReadOffsetAsync(ProjectionName, ct);
                _log.Info("Outbox projection resumes after journal ordering {0}", offset);
                while (!ct.IsCancellationRequested)
                {
                    var batch = await _reader.ReadAsync(OutboundMapper.Tag, offset, _options.BatchSize, ct);
                    if (batch.SafeOffset == offset)
                    {
                        await Task.Delay(_options.PollInterval, ct);
                        continue;
                    }

                    var messages = batch.Events
                        .SelectMany(e => OutboundMapper.Map(serialization.Deserialize(e.Message, e.SerializerId, e.Manifest), e.PersistenceId, e.SequenceNr))
                        .ToList();
                    await _store.AppendAsync(ProjectionName, offset, batch.SafeOffset, messages, ct);
                    offset = batch.SafeOffset;
                    backoff = TimeSpan.FromSeconds(1);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log.Warning(ex, "Outbox projection failed; resuming from the stored offset in {0}", backoff);
                try
                {
                    await Task.Delay(backoff, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
