using System.Collections.Immutable;

namespace O2X.Actors.Messaging;

/// <summary>
/// The result of a pure <c>Decide(state, command)</c>: events to persist (possibly none) and the reply to
/// send once they are persisted.
/// </summary>
internal sealed record Decision<TEvent>(ImmutableArray<TEvent> Events, EntityReply Reply)
{
    public static Decision<TEvent> Persist(EntityReply reply, params TEvent[] events) => new([.. events], reply);

    public static Decision<TEvent> Answer(EntityReply reply) => new([], reply);

    public static Decision<TEvent> Refuse(string entityId, string errorCode, string message) =>
        new([], new CommandRefused(entityId, errorCode, message));
}
