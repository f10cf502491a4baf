namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// Which exceptions are worth retrying (seed §5.1). <see cref="Messaging.NonRetryableException"/> never is;
/// <see cref="Messaging.RetryableException"/> always is; an exception whose type (or a base type) is named in one of the
/// lists follows that list; one that says the message itself is defective (<see cref="MessageDefects"/>: a format, an
/// overflow, an argument out of range, access denied) is not retried — no retry can cure it; anything else follows
/// <see cref="RetryUnknownExceptions"/>. Types are matched by full name: configuration never loads a type.
/// </summary>
internal sealed record ExceptionPolicy
{
    public const string HandlerErrorCode = "HANDLER_ERROR";

    public static readonly ExceptionPolicy Default = new();

    public bool RetryUnknownExceptions { get; init; } = true;

    public IReadOnlyCollection<string> NonRetryable { get; init; } = [];

    public IReadOnlyCollection<string> Retryable { get; init; } = [];

    /// <summary>Exceptions that mean the message (or what it points at) can never be handled as it is.</summary>
    public static readonly IReadOnlyCollection<string> MessageDefects = new HashSet<string>(StringComparer.Ordinal)
    {
        "System.FormatException", "System.OverflowException", "System.ArgumentException", "System.Text.Json.JsonException",
        "System.IO.InvalidDataException", "System.Text.DecoderFallbackException", "System.UnauthorizedAccessException",
        "System.IO.PathTooLongException", "System.Security.SecurityException",
    };

    public bool IsRetryable(Exception exception) => exception switch
    {
        Messaging.NonRetryableException => false,
        Messaging.RetryableException => true,
        _ when Named(exception, NonRetryable) => false,
        _ when Named(exception, Retryable) => true,
        _ when Named(exception, MessageDefects) => false,
        _ => RetryUnknownExceptions,
    };

    private static bool Named(Exception exception, IReadOnlyCollection<string> names)
    {
        if (names.Count == 0) return false;
        for (var type = exception.GetType(); type is not null; type = type.BaseType)
            if (names.Contains(type.FullName!)) return true;
        return false;
    }
}
