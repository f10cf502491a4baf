using Akka.Persistence.Journal;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>
/// Tags every event that produces outbound messages with <see cref="OutboundMapper.Tag"/>, so the outbox
/// projection can read exactly those (events by tag) — in the same journal write as the event itself.
/// </summary>
internal sealed class OutboxTagger : IWriteEventAdapter
{
    private static readonly System.Collections.Immutable.IImmutableSet<string> Tags =
        System.Collections.Immutable.ImmutableHashSet.Create(OutboundMapper.Tag);

    public string Manifest(object evt) => string.Empty;

    public object ToJournal(object evt) => OutboundMapper.Produces(evt) ? new Tagged(evt, Tags) : evt;
}
