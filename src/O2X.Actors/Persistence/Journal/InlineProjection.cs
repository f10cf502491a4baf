using System.Data.Common;
using Akka.Actor;

namespace O2X.Actors.Persistence.Journal;

/// <summary>
/// A projection that O2X's journal writer runs inside its own write transaction, for the events that carry the projection's
/// <see cref="Tag"/>. The event and what it projects to commit together or not at all, and nothing reads the event back.
/// Instead of the tag row, the journal writes the projected rows, so a projection that follows the tag (events by tag)
/// does not see these events. Without a registered projection, or under another journal, events are tagged as before and
/// that projection handles them.
/// </summary>
internal interface IInlineProjection
{
    /// <summary>The tag whose events this projection takes over from tag readers.</summary>
    string Tag { get; }

    /// <summary>
    /// What must exist before the first transaction that writes projected rows (e.g. the tables). Awaited by the journal
    /// writer outside any transaction. Completes at once once it has succeeded.
    /// </summary>
    ValueTask ReadyAsync(CancellationToken ct);

    /// <summary>
    /// Projects one event, before its write is queued (on the writer's thread, outside the transaction). May throw: the
    /// write is then rejected, as when the event cannot be serialized.
    /// </summary>
    object Project(object @event, string persistenceId, long sequenceNr);

    /// <summary>Writes what <see cref="Project"/> gave for the events of one transaction, in journal order, inside that transaction.</summary>
    Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<object> projected, CancellationToken ct);
}

/// <summary>
/// An inline projection whose statements can go into the PostgreSQL journal writer's one batch (<see cref="PostgresJournalStore"/>),
/// after the events' own, instead of round trips of its own.
/// </summary>
internal interface IPostgresBatchedProjection : IInlineProjection
{
    /// <summary>Adds the statements that write what <see cref="IInlineProjection.Project"/> gave, in journal order; their results are not read.</summary>
    void AddTo(Npgsql.NpgsqlBatch batch, IReadOnlyList<object> projected);
}

/// <summary>What one event projected to, and by which projection (<see cref="JournalRow.Inline"/>).</summary>
internal sealed record InlineRows(IInlineProjection Projection, object Rows);

/// <summary>
/// The inline projection of an actor system (at most one: the outbox). Registered by the node before its entities start;
/// read by the journal for every write, so a write queued before the registration is simply tagged.
/// </summary>
internal sealed class InlineProjections : IExtension
{
    private IInlineProjection? _current;

    public static InlineProjections For(ActorSystem system) => system.WithExtension<InlineProjections, InlineProjectionsProvider>();

    public IInlineProjection? Current => Volatile.Read(ref _current);

    public void Register(IInlineProjection projection) => Volatile.Write(ref _current, projection);
}

internal sealed class InlineProjectionsProvider : ExtensionIdProvider<InlineProjections>
{
    public override InlineProjections CreateExtension(ExtendedActorSystem system) => new();
}

/// <summary>The inline projections' part of a journal transaction.</summary>
internal static class InlineWrites
{
    /// <summary>Awaits the readiness of every projection that has rows in <paramref name="rows"/> (one, in practice).</summary>
    public static async ValueTask ReadyAsync(IReadOnlyList<JournalRow> rows, CancellationToken ct)
    {
        IInlineProjection? last = null;
        foreach (var row in rows)
        {
            if (row.Inline is not { } inline || ReferenceEquals(inline.Projection, last)) continue;
            last = inline.Projection;
            await last.ReadyAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the projected rows of <paramref name="rows"/>, per projection in journal order, in the caller's transaction.</summary>
    public static async Task RunAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<JournalRow> rows, CancellationToken ct)
    {
        IInlineProjection? projection = null;
        List<object>? projected = null;
        foreach (var row in rows)
        {
            if (row.Inline is not { } inline) continue;
            if (projection is not null && !ReferenceEquals(projection, inline.Projection))
            {
                await projection.WriteAsync(connection, transaction, projected!, ct).ConfigureAwait(false);
                projected = null;
            }

            projection = inline.Projection;
            (projected ??= []).Add(inline.Rows);
        }

        if (projection is not null) await projection.WriteAsync(connection, transaction, projected!, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// PostgreSQL: adds the projected rows of <paramref name="rows"/> to <paramref name="batch"/> if every projection that has rows
    /// can (<see cref="IPostgresBatchedProjection"/>); otherwise adds nothing and returns false (then <see cref="RunAsync"/>).
    /// </summary>
    public static bool TryAddTo(Npgsql.NpgsqlBatch batch, IReadOnlyList<JournalRow> rows)
    {
        var groups = new List<(IPostgresBatchedProjection Projection, List<object> Projected)>();
        foreach (var row in rows)
        {
            if (row.Inline is not { } inline) continue;
            if (inline.Projection is not IPostgresBatchedProjection batched) return false;
            if (groups.Count == 0 || !ReferenceEquals(groups[^1].Projection, batched)) groups.Add((batched, []));
            groups[^1].Projected.Add(inline.Rows);
        }

        foreach (var (projection, projected) in groups) projection.AddTo(batch, projected);
        return true;
    }
}
