using O2X.Streams.Messaging;

namespace O2X.Streams.Bindings;

/// <summary>A delivery together with what became of it; the source's commit stage acts on <see cref="Outcome"/>.</summary>
public sealed record Handled<TDelivery>(TDelivery Delivery, MessageEnvelope Envelope, HandlingOutcome Outcome);
