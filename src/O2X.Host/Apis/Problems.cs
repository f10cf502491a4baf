using Microsoft.AspNetCore.Http.HttpResults;

namespace O2X.Host.Apis;

/// <summary>RFC 7807 Problem Details for every error answer, with the O2X error code as an extension.</summary>
internal static class Problems
{
    public static ProblemHttpResult Of(int status, string title, string detail, string? errorCode = null, params (string Key, object? Value)[] extensions)
    {
        var ext = new Dictionary<string, object?>();
        if (errorCode is not null) ext["error_code"] = errorCode;
        foreach (var (key, value) in extensions) ext[key] = value;
        return TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: ext);
    }

    public static ProblemHttpResult BadId(string what, string value) =>
        Of(StatusCodes.Status400BadRequest, $"Invalid {what}", $"'{Truncate(value)}' is not a valid {what}: use {O2X.Actors.Messaging.EntityIds.Rule}.", "INVALID_FIELD");

    /// <summary>A value from the request as it may be echoed: short and on one line.</summary>
    public static string Truncate(string value) => O2X.Actors.Messaging.TextExcerpt.Of(value);
}
