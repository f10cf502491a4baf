using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using O2X.Actors.Messaging;

namespace O2X.Actors.Sharding;

/// <summary>
/// A thin sharded persistent actor around a pure state: commands go through <see cref="Decide"/>, the
/// resulting events are persisted and then folded in with <see cref="Apply"/>, and only then is the
/// reply sent — a caller that gets a reply knows the effect is durable. Snapshots every
/// <c>snapshotEvery</c> events (older ones deleted).
/// </summary>
/// <remarks>
/// Messages are dispatched with type tests (<see cref="ReceiveCommand"/>, <see cref="Query"/>), not through
/// <c>ReceivePersistentActor</c>'s registered handlers: every new order creates an entity, and building those handlers
/// (match builders, compiled lambdas, closures) cost ~4% of the node's CPU in a profile of order intake.
/// </remarks>
internal abstract class EventSourcedEntity<TState, TCommand, TEvent> : PersistentActor
    where TState : class
    where TCommand : class
    where TEvent : class
{
    private readonly int _snapshotEvery;
    private int _eventsSinceSnapshot;
    private IActorRef? _awaitingPersist;

    protected EventSourcedEntity(string persistenceId, TState empty, int snapshotEvery)
    {
        PersistenceId = persistenceId;
        _entityType = PersistLatency.EntityTypeOf(persistenceId);
        _fresh = Persistence.FreshEntities.For(Context.System).TryTake(persistenceId);
        State = empty;
        _snapshotEvery = snapshotEvery;
    }

    protected sealed override bool ReceiveRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer offer:
                State = (TState)offer.Snapshot;
                return true;
            case TEvent e:
                State = Apply(State, e);
                _eventsSinceSnapshot++;
                return true;
            default:
                return false;
        }
    }

    protected sealed override bool ReceiveCommand(object message)
    {
        switch (message)
        {
            case TCommand command:
                Handle(command);
                return true;
            case SaveSnapshotSuccess s:
                DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
                return true;
            case SaveSnapshotFailure f:
                Log.Warning(f.Cause, "Snapshot of {0} failed; events remain authoritative", PersistenceId);
                return true;
            case DeleteSnapshotsSuccess:
                return true;
            case StopEntity:
                // Stashed like any command while a write is in flight, so it stops the entity only after the write's reply.
                Context.Stop(Self);
                return true;
            case DeleteSnapshotsFailure f:
                Log.Warning(f.Cause, "Deleting old snapshots of {0} failed", PersistenceId);
                return true;
            default:
                return Query(message);
        }
    }

    /// <summary>Called after a command was answered without persisting anything (refused, a duplicate, nothing to do).</summary>
    protected virtual void AnsweredWithoutWriting()
    {
    }

    /// <summary>
    /// Stops this incarnation through its shard: messages that arrive meanwhile wait for the next incarnation, which recovers
    /// from the journal. Asked once per incarnation. The shard stops it with <see cref="StopEntity"/>, not a
    /// <c>PoisonPill</c>: a poison pill is handled outside the actor's stash and would stop it in the middle of a write that a
    /// command queued before it had started, losing that command's reply and the commands stashed behind it.
    /// </summary>
    protected void PassivateNow()
    {
        if (_passivating) return;
        _passivating = true;
        Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(StopEntity.Instance));
    }

    private bool _passivating;

    /// <summary>The entity's other messages (queries, lifecycle); false leaves <paramref name="message"/> unhandled.</summary>
    protected virtual bool Query(object message) => false;

    public override string PersistenceId { get; }

    /// <summary>Known to have nothing stored yet (<see cref="Persistence.FreshEntities"/>): no snapshot to look for.</summary>
    private readonly bool _fresh;

    /// <summary>A new entity does not look for a snapshot; it still reads and replays its events, if it has any after all.</summary>
    public override Recovery Recovery => _fresh ? FromEventsOnly : base.Recovery;

    private static readonly Recovery FromEventsOnly = new(SnapshotSelectionCriteria.None);

    /// <summary>The entity type for metrics: the persistence id up to its first '-' (<c>order</c>, <c>account</c>, …).</summary>
    private readonly string _entityType;

    protected TState State { get; private set; }

    protected abstract Decision<TEvent> Decide(TState state, TCommand command);

    protected abstract TState Apply(TState state, TEvent @event);

    private void Handle(TCommand command)
    {
        Decision<TEvent> decision;
        try
        {
            decision = Decide(State, command);
        }
        catch (NonRetryableException ex)
        {
            // The command cannot be carried out as it is: the caller's outcome says why, nothing to log here.
            Sender.Tell(new Status.Failure(ex));
            AnsweredWithoutWriting();
            return;
        }
        catch (Exception ex)
        {
            Log.Error(ex, "{0} could not decide {1}", PersistenceId, command.GetType().Name);
            Sender.Tell(new Status.Failure(ex));
            AnsweredWithoutWriting();
            return;
        }

        if (decision.Events.IsEmpty)
        {
            Sender.Tell(decision.Reply);
            AnsweredWithoutWriting();
            return;
        }

        var replyTo = Sender;
        _awaitingPersist = replyTo;
        var remaining = decision.Events.Length;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        PersistAll(decision.Events, e =>
        {
            State = Apply(State, e);
            _eventsSinceSnapshot++;
            if (--remaining > 0) return;
            _awaitingPersist = null;
            replyTo.Tell(decision.Reply);
            Context.System.EventStream.Publish(new PersistLatency(_entityType, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
            if (_eventsSinceSnapshot >= _snapshotEvery)
            {
                _eventsSinceSnapshot = 0;
                SaveSnapshot(State);
            }
        });
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // The journal is unavailable: tell the caller now (a retryable failure) instead of letting it time out.
        _awaitingPersist?.Tell(new Status.Failure(new RetryableException($"Journal write for {PersistenceId} failed: {cause.Message}", cause)));
        _awaitingPersist = null;
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _awaitingPersist?.Tell(new Status.Failure(new RetryableException($"Journal rejected an event of {PersistenceId}: {cause.Message}", cause)));
        _awaitingPersist = null;
        base.OnPersistRejected(cause, @event, sequenceNr);
    }
}

/// <summary>The stop message of an entity's own passivation (<c>PassivateNow</c>); local only, never serialized.</summary>
internal sealed class StopEntity
{
    public static readonly StopEntity Instance = new();

    private StopEntity()
    {
    }
}

/// <summary>
/// Published on the actor system's event stream after each durable write of an entity: how long from the command's
/// events being handed to the journal until they were confirmed (group-commit wait included). For metrics.
/// </summary>
internal sealed record PersistLatency(string EntityType, TimeSpan Elapsed)
{
    /// <summary>The entity type of a persistence id: up to its first '-' (<c>order</c>, <c>account</c>, …).</summary>
    public static string EntityTypeOf(string persistenceId) =>
        persistenceId.IndexOf('-') is var dash and >= 0 ? persistenceId[..dash] : persistenceId;
}
