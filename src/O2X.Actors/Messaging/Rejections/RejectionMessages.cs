using O2X.Actors.Serialization;

namespace O2X.Actors.Messaging.Rejections;

/// <summary>Routes to one rejection log (<c>{queue}-{bucket}</c>).</summary>
internal interface IWithRejectionLogId
{
    string LogId { get; }
}

/// <summary>Record that a message was refused (NonRetryable) and must go to its error queue.</summary>
internal sealed record RecordRejection(string LogId, IntakeRecord Intake, string ErrorDestination, string ErrorCode, string ErrorMessage)
    : IWithRejectionLogId, IO2XMessage;

/// <summary>Persisted: a refused message, verbatim, with why (→ the error queue envelope of seed §5.3, and OMS_ARCHIVE).</summary>
internal sealed record MessageRejected(string LogId, IntakeRecord Intake, string ErrorDestination, string ErrorCode, string ErrorMessage, DateTimeOffset At)
    : IWithRejectionLogId, IHasIntake, IO2XMessage;

/// <summary>State (and snapshot) of a rejection log: which message ids it has recorded lately.</summary>
internal sealed record RejectionLogState(string LogId, MessageIdWindow Recorded) : IO2XMessage
{
    public const int WindowCapacity = 10_000;

    public static RejectionLogState Empty(string logId) => new(logId, new MessageIdWindow([], WindowCapacity));

    public static Decision<MessageRejected> Decide(RejectionLogState state, RecordRejection record) =>
        state.Recorded.Contains(record.Intake.MessageId)
            ? Decision<MessageRejected>.Answer(new CommandDone(state.LogId, WasDuplicate: true))
            : Decision<MessageRejected>.Persist(new CommandDone(state.LogId, WasDuplicate: false),
                new MessageRejected(record.LogId, record.Intake, record.ErrorDestination, record.ErrorCode, record.ErrorMessage, record.Intake.ReceivedAt));

    public RejectionLogState Apply(MessageRejected e) => this with { Recorded = Recorded.Add(e.Intake.MessageId) };
}
