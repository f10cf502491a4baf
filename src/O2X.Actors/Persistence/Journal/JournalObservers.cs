using Akka.Actor;
using Akka.Event;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// Where the journal writer reports each group commit, and SQLite's checkpointer each checkpoint (the node's metrics,
/// <c>o2x_journal_*</c> and <c>o2x_sqlite_*</c>). One per actor system; nothing is reported while no observer is attached.
/// </summary>
/// <remarks>
/// The writer's phases say why a durable write was slow: it waited behind a busy writer (<see cref="GroupCommit.Queued"/>), for
/// SQLite's write lock (<see cref="GroupCommit.Gate"/>), for its statements, or for the commit's fsync.
/// </remarks>
internal sealed class JournalObservers(ILoggingAdapter? log = null) : IExtension
{
    private IJournalObserver? _observer;
    private int _failuresLogged;

    public static JournalObservers For(ActorSystem system) => system.WithExtension<JournalObservers, JournalObserversProvider>();

    public IJournalObserver? Current => Volatile.Read(ref _observer);

    public void Attach(IJournalObserver observer) => Volatile.Write(ref _observer, observer);

    /// <summary>Tells the observer, if any. Never throws: a failing observer must not fail, repeat or stop the journal's writes.</summary>
    public void GroupCommitted(in GroupCommit commit) => Tell(commit, static (o, c) => o.GroupCommitted(c));

    /// <summary>Tells the observer, if any. Never throws: a failing observer must not stop the checkpoints.</summary>
    public void Checkpointed(in WalCheckpoint checkpoint) => Tell(checkpoint, static (o, c) => o.Checkpointed(c));

    /// <remarks>The first ten failures are logged (a broken observer fails at every group commit).</remarks>
    private void Tell<T>(T report, Action<IJournalObserver, T> tell)
    {
        if (Current is not { } observer) return;
        try
        {
            tell(observer, report);
        }
        catch (Exception ex)
        {
            if (Interlocked.Increment(ref _failuresLogged) <= 10) log?.Warning(ex, "The journal's metrics observer failed; the write went on");
        }
    }
}

/// <summary>Told of every group commit and checkpoint, on the writer's (or checkpointer's) own thread: must not block.</summary>
internal interface IJournalObserver
{
    void GroupCommitted(in GroupCommit commit);

    void Checkpointed(in WalCheckpoint checkpoint);
}

/// <summary>
/// One group commit of the journal writer (or one request of a failed group commit written again alone).
/// <see cref="Queued"/>: how long its oldest request waited for the writer; <see cref="Gate"/>: for SQLite's write turn;
/// <see cref="Statements"/>: the inserts and joined writes; <see cref="Commit"/>: the commit with its fsync.
/// </summary>
internal readonly record struct GroupCommit(int Requests, int Rows, TimeSpan Queued, TimeSpan Gate, TimeSpan Statements, TimeSpan Commit, bool Failed);

/// <summary>
/// One PASSIVE checkpoint of SQLite's write-ahead log: <see cref="WalFrames"/> in the log, <see cref="Checkpointed"/> of them
/// copied into the database file (the rest wait for readers that still need them). <see cref="Failed"/>: it could not run (an
/// error, or another connection was checkpointing at the time).
/// </summary>
internal readonly record struct WalCheckpoint(TimeSpan Elapsed, long WalFrames, long Checkpointed, bool Failed);

/// <summary>What a store measured of one write, for the group commit's report. Reused by the single writer.</summary>
internal sealed class WritePhases
{
    public TimeSpan Gate;
    public TimeSpan Commit;

    public void Reset() => (Gate, Commit) = (TimeSpan.Zero, TimeSpan.Zero);
}

internal sealed class JournalObserversProvider : ExtensionIdProvider<JournalObservers>
{
    public override JournalObservers CreateExtension(ExtendedActorSystem system) => new(system.Log);
}
