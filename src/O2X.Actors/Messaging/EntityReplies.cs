using O2X.Actors.Serialization;

namespace O2X.Actors.Messaging;

/// <summary>What an entity answers to a command.</summary>
internal abstract record EntityReply : IO2XMessage;

/// <summary>The command's effect is persisted (or, when <see cref="WasDuplicate"/>, had been before).</summary>
internal sealed record CommandDone(string EntityId, bool WasDuplicate) : EntityReply;

/// <summary>The command was refused for a business reason (seed §5.1 NonRetryable).</summary>
internal sealed record CommandRefused(string EntityId, string ErrorCode, string Message) : EntityReply;

/// <summary>A query for an entity that has never been created.</summary>
internal sealed record EntityNotFound(string EntityId) : IO2XMessage;
