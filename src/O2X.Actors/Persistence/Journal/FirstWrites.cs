using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using O2X.Actors.Sharding;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// Writes the first events of an entity that has none yet, without starting the entity: straight into this node's journal
/// writer (<see cref="BatchingSqlJournal"/>), adapted, serialized and group-committed exactly as the entity's own
/// <c>PersistAll</c> would be, as sequence numbers 1..n. The entity starts when it is next addressed and recovers them.
/// </summary>
/// <remarks>
/// <para>
/// For a new order: its number was given out a moment ago, so nothing can be stored under it and nobody can have
/// addressed it yet. Starting an actor to persist two events, only for it to idle until it passivates, was the largest
/// cost of order intake that was O2X's own (actor creation, recovery queries, the journal actor's messages, the stop).
/// </para>
/// <para>
/// Safe if the caller is wrong about "none yet": the journal's unique (persistence id, sequence number) fails the write,
/// so the stored events stand, and the caller goes through the entity instead. An entity of that id that is already
/// running (started by a read of a number nobody had yet) would not see the events until it restarts; order entities
/// that find no order passivate at once for that reason (<c>OrderActor</c>), and a running entity's own first write
/// fails on the same unique key, which restarts it.
/// </para>
/// <para>One registry per actor system: nodes that share a process (tests) never write through each other's journal.</para>
/// </remarks>
internal sealed class FirstWrites(EventStream eventStream) : IExtension
{
    private IFirstWriter? _writer;

    public static FirstWrites For(ActorSystem system) => system.WithExtension<FirstWrites, FirstWritesProvider>();

    /// <summary>
    /// Hands <paramref name="events"/> to the journal writer as sequence numbers 1..n of <paramref name="persistenceId"/>.
    /// False when this actor system runs no O2X journal writer (the stock journal is configured, the node has no entities,
    /// or the journal has not started yet): then nothing was written. <paramref name="written"/> completes once the events
    /// committed and faults if they did not (e.g. sequence number 1 is taken).
    /// </summary>
    public bool TryWrite(string persistenceId, IReadOnlyList<object> events, out Task written)
    {
        if (Volatile.Read(ref _writer) is not { } writer)
        {
            written = Task.CompletedTask;
            return false;
        }

        written = Measured(writer.WriteFirstAsync(persistenceId, events), persistenceId);
        return true;
    }

    /// <summary>Reported like an entity's own write (<see cref="PersistLatency"/>, the <c>o2x_persist_seconds</c> metric).</summary>
    private async Task Measured(Task write, string persistenceId)
    {
        var started = Stopwatch.GetTimestamp();
        await write.ConfigureAwait(false);
        eventStream.Publish(new PersistLatency(PersistLatency.EntityTypeOf(persistenceId), Stopwatch.GetElapsedTime(started)));
    }

    /// <summary>Whether a journal writer is attached (for tests that must know which path a write takes).</summary>
    public bool IsAttached => Volatile.Read(ref _writer) is not null;

    internal void Attach(IFirstWriter writer) => Volatile.Write(ref _writer, writer);

    internal void Detach(IFirstWriter writer) => Interlocked.CompareExchange(ref _writer, null, writer);
}

/// <summary>The journal writer's side of <see cref="FirstWrites"/>.</summary>
internal interface IFirstWriter
{
    /// <summary>Writes the events as sequence numbers 1..n in one atomic write; completes when committed.</summary>
    Task WriteFirstAsync(string persistenceId, IReadOnlyList<object> events);
}

internal sealed class FirstWritesProvider : ExtensionIdProvider<FirstWrites>
{
    public override FirstWrites CreateExtension(ExtendedActorSystem system) => new(system.EventStream);
}
