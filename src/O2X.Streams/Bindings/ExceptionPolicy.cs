namespace O2X.Streams.Bindings;

/// <summary>
/// Which exceptions are worth retrying (seed §5.1). <see cref="Messaging.NonRetryableException"/> never is;
/// <see cref="Messaging.RetryableException"/> always is; any other exception follows
/// <see cref="RetryUnknownExceptions"/> unless its type (or a base type) is named in one of the lists.
/// Types are matched by full name: configuration never loads a type.
/// </summary>
public sealed record ExceptionPolicy
{
    public const string HandlerErrorCode = "HANDLER_ERROR";

    public static readonly ExceptionPolicy Default = new();

    public bool RetryUnknownExceptions { get; init; } = true;

    public IReadOnlyCollection<string> NonRetryable { get; init; } = [];

    public IReadOnlyCollection<string> Retryable { get; init; } = [];

    public bool IsRetryable(Exception exception) => exception switch
    {
        Messaging.NonRetryableException => false,
        Messaging.RetryableException => true,
        _ when Named(exception, NonRetryable) => false,
        _ when Named(exception, Retryable) => true,
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
