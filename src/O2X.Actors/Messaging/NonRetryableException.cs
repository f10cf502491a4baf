namespace O2X.Actors.Messaging;

/// <summary>
/// A failure that no retry can fix (seed §5.1): invalid input, unknown account, duplicate order,
/// a business rule. The message goes to its binding's error queue with <see cref="ErrorCode"/>.
/// </summary>
public sealed class NonRetryableException : Exception
{
    public NonRetryableException(string errorCode, string message, IReadOnlyDictionary<string, string>? details = null)
        : base(message)
    {
        ErrorCode = errorCode;
        Details = details ?? new Dictionary<string, string>();
    }

    /// <summary>A stable, documented code such as <c>MISSING_FIELD</c>.</summary>
    public string ErrorCode { get; }

    public IReadOnlyDictionary<string, string> Details { get; }
}
