using System.Data.Common;
using System.Diagnostics;
using Akka.Event;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;
using O2X.Actors.Persistence.Journal;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>
/// The outbox written by the journal writer itself: an event tagged <see cref="OutboundMapper.Tag"/> is mapped to its
/// outbound messages (and provisioning-watch change) before its write is queued, and they are inserted in the same
/// transaction as the event. Nothing reads the event back, deserializes it or writes a second transaction, which the
/// <see cref="OutboxProjection"/> had to do for every order.
/// </summary>
/// <remarks>
/// <para>
/// Exactly once, as with the projection: the messages commit with their event or not at all, and their ids are still
/// derived from the event's persistence id and sequence number. Events it writes carry no outbox tag, so the projection
/// (which goes on running) does not see them; it still handles every tagged event — written by Akka.Persistence.Sql's
/// journal, or by this journal before the registration.
/// </para>
/// <para>
/// Order: outbox positions follow commit order, as journal orderings do. On PostgreSQL, the outbox lock
/// (<see cref="O2XDatabase.LockOutboxAsync"/>) is taken right before the outbox insert, after the events' own statements, and
/// held to the commit, so several nodes' writers (and the projection) cannot commit a lower position after a higher one that
/// the relay has passed. The price: the nodes' group commits take turns from that statement to their commit.
/// </para>
/// </remarks>
internal sealed class OutboxInJournal(OutboxStore store, ILoggingAdapter log, TimeSpan? catchUpTimeout = null) : IPostgresBatchedProjection
{
    private readonly TimeSpan _catchUpTimeout = catchUpTimeout ?? TimeSpan.FromSeconds(30);
    private volatile IDataProvider? _provider;

    public string Tag => OutboundMapper.Tag;

    /// <summary>
    /// O2X's tables exist, linq2db's provider for them is known, and the projection has caught up with every event tagged
    /// before: the journal's first transaction with outbox rows waits for that (once per process), so that an order's
    /// messages in the outbox, and its provisioning watch, keep the order of its events across the switch. Otherwise a
    /// tagged <c>ProvisioningRequested</c> still waiting for the projection (written before a restart) would be applied
    /// after its order's <c>ProvisioningCompleted</c> written here, and leave the order watched for ever; the same for
    /// an order's RECEIVED and COMPLETED responses. If the projection has not caught up within the timeout (it is not
    /// running, or it fails), the journal goes on and says so.
    /// </summary>
    public async ValueTask ReadyAsync(CancellationToken ct)
    {
        if (_provider is not null) return;
        await using (var db = await store.Database.OpenAsync(ct).ConfigureAwait(false))
        {
            var started = Stopwatch.GetTimestamp();
            var waited = false;
            while (await TaggedAfterProjectionAsync(db, ct).ConfigureAwait(false))
            {
                if (Stopwatch.GetElapsedTime(started) > _catchUpTimeout)
                {
                    log.Warning("The outbox projection has not caught up with the events tagged for it within {0}: the journal now writes the " +
                                "outbox itself, and the messages of those events may follow later messages of the same orders", _catchUpTimeout);
                    break;
                }

                waited = true;
                await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
            }

            if (waited) log.Info("The outbox projection caught up; the journal writes the outbox from now on");
            _provider = db.DataProvider;
        }
    }

    /// <summary>Whether an event tagged for the outbox is after the projection's offset (along the tags' primary key).</summary>
    private async Task<bool> TaggedAfterProjectionAsync(DataConnection db, CancellationToken ct)
    {
        var offset = await store.ReadOffsetAsync(OutboxProjection.ProjectionName, ct).ConfigureAwait(false);
        // SQLite: `+tag` keeps its planner on the primary key (ordering_id, tag) instead of every row ever tagged so.
        var tag = store.Database.Provider == Hosting.PersistenceProvider.Sqlite ? "+tag" : "tag";
        var found = await db.ExecuteAsync<long?>($"SELECT ordering_id FROM tags WHERE ordering_id > @offset AND {tag} = @tag ORDER BY ordering_id LIMIT 1",
            ct, new DataParameter("offset", offset), new DataParameter("tag", Tag)).ConfigureAwait(false);
        return found is not null;
    }

    /// <summary>Runs on the writing caller's thread, before the write is queued: whatever can be prepared here is (the headers' JSON).</summary>
    public object Project(object @event, string persistenceId, long sequenceNr)
    {
        var messages = OutboundMapper.Map(@event, persistenceId, sequenceNr);
        foreach (var message in messages) _ = message.HeadersJson;
        return new Projected(messages, ProvisioningWatchChange.Of(@event));
    }

    public async Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<object> projected, CancellationToken ct)
    {
        var provider = _provider ?? throw new InvalidOperationException("The outbox's tables were not checked before the journal's transaction.");
        var (messages, watch) = Gather(projected);

        // On the journal writer's connection and transaction, which stay the writer's: linq2db does not own them.
        await using var db = new DataConnection(new DataOptions().UseTransaction(provider, transaction));
        await store.WriteAsync(db, messages, watch, DateTime.UtcNow, ct).ConfigureAwait(false);
    }

    /// <summary>PostgreSQL: the same statements, in the journal writer's one batch after the events' own.</summary>
    public void AddTo(Npgsql.NpgsqlBatch batch, IReadOnlyList<object> projected)
    {
        if (_provider is null) throw new InvalidOperationException("The outbox's tables were not checked before the journal's transaction.");
        var (messages, watch) = Gather(projected);
        OutboxStore.AddTo(batch, messages, watch, DateTime.UtcNow);
    }

    private static (List<OutboundMessage> Messages, List<ProvisioningWatchChange> Watch) Gather(IReadOnlyList<object> projected)
    {
        var messages = new List<OutboundMessage>(projected.Count * 2);
        var watch = new List<ProvisioningWatchChange>();
        foreach (Projected p in projected)
        {
            messages.AddRange(p.Messages);
            if (p.Watch is { } change) watch.Add(change);
        }

        return (messages, watch);
    }

    private sealed record Projected(IReadOnlyList<OutboundMessage> Messages, ProvisioningWatchChange? Watch);
}
