using O2X.Actors.Persistence;

namespace O2X.Actors.Messaging.DeadLetters;

/// <summary>
/// What the scheduled reprocessor does with a dead letter of one binding (seed §5.3 DLQReprocessor
/// "shouldRetry"): requeue it when it died of a transient cause, is young enough and was not requeued too
/// often already; otherwise raise an incident for a human.
/// </summary>
internal sealed record DeadLetterPolicy(IReadOnlyCollection<string> TransientExceptions, TimeSpan MaxAge, int MaxRequeues)
{
    public static readonly IReadOnlyList<string> DefaultTransientExceptions =
    [
        "O2X.Actors.Messaging.RetryableException",
        "System.TimeoutException",
        "Akka.Actor.AskTimeoutException",
        "Npgsql.NpgsqlException",
        "Microsoft.Data.Sqlite.SqliteException",
        "System.Net.Sockets.SocketException",
    ];

    public static readonly DeadLetterPolicy Default = new(DefaultTransientExceptions, TimeSpan.FromDays(1), 3);

    /// <summary>Null to requeue; otherwise why it needs a human.</summary>
    public string? IncidentReason(DeadLetterRecord letter, DateTime now)
    {
        if (!TransientExceptions.Contains(letter.ExceptionType)) return $"{letter.ExceptionType} is not a transient cause";
        if (now - letter.FirstFailure > MaxAge) return $"first failed {letter.FirstFailure:O}, older than {MaxAge}";
        if (letter.RequeueCount >= MaxRequeues) return $"already requeued {letter.RequeueCount} times";
        return null;
    }
}
