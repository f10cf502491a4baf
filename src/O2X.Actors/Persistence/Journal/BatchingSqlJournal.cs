using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Serialization;
using Akka.Util;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// O2X's write journal: Akka.Persistence.Sql's tables (journal, tags — default mapping, TagTable mode) written
/// with group commit (<see cref="WriteBatcher"/>) and read with plain prepared SQL. Akka.Persistence.Sql's
/// read journal (events by tag) and snapshot store work on the same data, and an operator can switch back to
/// Akka.Persistence.Sql's own journal without any migration. The tables are created by that plugin, which this journal
/// asks (a replay probe) before its first write or read if they are missing; two of that schema's indexes, which no query
/// here uses, are dropped (<see cref="JournalSchema"/>).
/// </summary>
/// <remarks>
/// Events carrying the tag of the actor system's inline projection (<see cref="InlineProjections"/>: the outbox) are
/// projected into the same transaction instead of being tagged.
/// Guarantees: a persist is acknowledged only after its transaction committed; the events of one
/// <see cref="AtomicWrite"/> are committed together or not at all; an event that cannot be serialized is
/// rejected alone (the entity goes on), a database failure fails the write (the entity stops and recovers).
/// </remarks>
internal sealed class BatchingSqlJournal : AsyncWriteJournal
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly IJournalStore _store;
    private readonly WriteBatcher _batcher;
    private readonly JournalSchema _schema;
    private readonly string _writerUuid = Guid.NewGuid().ToString("N");

    public BatchingSqlJournal(Config config)
    {
        _serialization = Context.System.Serialization;
        var connectionString = config.GetString("connection-string") ?? throw new ConfigurationException("connection-string is required");
        var observers = JournalObservers.For(Context.System);
        _store = config.GetString("provider", "sqlite") switch
        {
            "sqlite" => new SqliteJournalStore(connectionString, config.GetString("sqlite-synchronous", "FULL"), observers),
            "postgresql" => new PostgresJournalStore(connectionString),
            var other => throw new ConfigurationException($"Unknown journal provider '{other}' (sqlite or postgresql)."),
        };
        _schema = new JournalSchema(_store, StockPluginProbe.ForJournal(Context.System, config.GetString("schema-plugin", "akka.persistence.journal.sql")), _log);
        _batcher = new WriteBatcher(_store, _schema.ReadyAsync, config.GetInt("max-batch-rows", 1000), observers);
        _connectionString = connectionString;
        // Before the writer is visible to other threads: a first write may arrive as soon as it is attached.
        _inline = InlineProjections.For(Context.System);
        JournalWriters.Register(connectionString, _batcher);
        _firstWriter = new FirstWriter(this);
        _firstWrites = FirstWrites.For(Context.System);
        _firstWrites.Attach(_firstWriter);
    }

    private readonly InlineProjections _inline;

    private readonly string _connectionString;
    private readonly FirstWrites _firstWrites;
    private readonly FirstWriter _firstWriter;

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        var inline = _inline.Current; // once: every event of an atomic write goes the same way
        var results = new Exception?[writes.Count];
        var pending = new List<Task>(writes.Count);
        for (var i = 0; i < writes.Count; i++)
        {
            IReadOnlyList<JournalRow> rows;
            try
            {
                rows = ((IImmutableList<IPersistentRepresentation>)writes[i].Payload).Select(r => ToRow(r, inline)).ToList();
            }
            catch (Exception ex)
            {
                results[i] = ex; // rejected: this write only
                continue;
            }

            pending.Add(_batcher.WriteAsync(rows));
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
        return results.All(r => r is null) ? null! : results.ToImmutableList();
    }

    public override async Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        if (max <= 0) return;
        await _schema.ReadyAsync().ConfigureAwait(false);
        await _store.ReadEventsAsync(persistenceId, fromSequenceNr, toSequenceNr, max, e =>
        {
            var payload = _serialization.Deserialize(e.Message, e.SerializerId ?? throw new InvalidOperationException(
                $"Event {persistenceId}/{e.SequenceNr} has no serializer id."), e.Manifest ?? string.Empty);
            recoveryCallback(new Persistent(payload, e.SequenceNr, persistenceId, e.Manifest ?? string.Empty, false, ActorRefs.NoSender, e.WriterUuid, e.Created));
        }, CancellationToken.None).ConfigureAwait(false);
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        await _schema.ReadyAsync().ConfigureAwait(false);
        return await _store.ReadHighestSequenceNrAsync(persistenceId, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken)
    {
        await _schema.ReadyAsync().ConfigureAwait(false);
        await _store.MarkDeletedAsync(persistenceId, toSequenceNr, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes already taken finish and the connections close in the background: nothing can be told about them any more
    /// (their writers have stopped), and a blocking wait here would hold a thread of the dispatcher that stops everything else.
    /// </summary>
    protected override void PostStop()
    {
        JournalWriters.Unregister(_connectionString, _batcher);
        _firstWrites.Detach(_firstWriter);
        _schema.Stop();
        _ = CloseAsync();
        base.PostStop();
    }

    private async Task CloseAsync()
    {
        await _batcher.DisposeAsync().ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// An entity's first events written without the entity (<see cref="FirstWrites"/>): through the same event adapters,
    /// serialization and group commit as <see cref="WriteMessagesAsync"/>. Called from any thread: it reads only what does
    /// not change after the journal's constructor (adapters, serialization, writer id, batcher).
    /// </summary>
    private sealed class FirstWriter(BatchingSqlJournal journal) : IFirstWriter
    {
        public Task WriteFirstAsync(string persistenceId, IReadOnlyList<object> events)
        {
            JournalRow[] rows;
            try
            {
                rows = new JournalRow[events.Count];
                var inline = journal._inline.Current;
                for (var i = 0; i < rows.Length; i++)
                {
                    var representation = new Persistent(events[i], i + 1, persistenceId, string.Empty, false, ActorRefs.NoSender, journal._writerUuid);
                    rows[i] = journal.ToRow(journal.AdaptToJournal(representation), inline);
                }
            }
            catch (Exception ex)
            {
                return Task.FromException(ex);
            }

            return journal._batcher.WriteAsync(rows);
        }
    }

    /// <param name="inline">The inline projection, read once per write (null: tag as the adapters say).</param>
    private JournalRow ToRow(IPersistentRepresentation representation, IInlineProjection? inline)
    {
        var payload = representation.Payload;
        IReadOnlyCollection<string> tags = [];
        InlineRows? projected = null;
        if (payload is Tagged tagged)
        {
            payload = tagged.Payload;
            tags = tagged.Tags;
            if (inline is not null && tags.Contains(inline.Tag))
            {
                // Projected in this write's own transaction: not tagged for the projection that reads the tag.
                projected = new InlineRows(inline, inline.Project(payload, representation.PersistenceId, representation.SequenceNr));
                tags = tags.Count == 1 ? [] : [.. tags.Where(t => t != inline.Tag)];
            }
        }

        var serializer = _serialization.FindSerializerFor(payload);
        var manifest = serializer switch
        {
            SerializerWithStringManifest withManifest => withManifest.Manifest(payload),
            { IncludeManifest: true } => payload.GetType().TypeQualifiedName(),
            _ => string.Empty,
        };
        return new JournalRow(
            representation.PersistenceId,
            representation.SequenceNr,
            representation.Timestamp == 0 ? DateTime.UtcNow.Ticks : representation.Timestamp,
            serializer.ToBinary(payload),
            manifest,
            serializer.Identifier,
            _writerUuid,
            tags,
            projected);
    }
}
