using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>A delivery together with what became of it; the source's commit stage acts on <see cref="Outcome"/>.</summary>
internal sealed record Handled<TDelivery>(TDelivery Delivery, MessageEnvelope Envelope, HandlingOutcome Outcome);
