using System.Globalization;
using System.Text.Json;

namespace O2X.Actors.Messaging;

/// <summary>
/// Reads fields of an inbound JSON message and turns every problem into a <see cref="NonRetryableException"/>
/// with a stable code and the field's path (<c>services[0].quantity</c>), so the sender learns exactly
/// what to fix.
/// </summary>
public static class JsonMessageReader
{
    /// <summary>
    /// Comments are skipped: producers (and the seed's own examples, e.g. <c>// ... up to 100</c>) annotate
    /// messages, and a comment never changes what a message means. A key given twice is refused: which of the two
    /// counts would otherwise depend on who reads the message (O2X, the archive's consumer, a card-number scan).
    /// </summary>
    private static readonly JsonDocumentOptions ReaderOptions = new()
    {
        MaxDepth = 32, CommentHandling = JsonCommentHandling.Skip, AllowDuplicateProperties = false,
    };

    /// <summary>Longest free-text field by default (names, addresses, tokens, codes); fields that need more say so.</summary>
    public const int MaxText = 256;

    /// <summary>Parses the body as a JSON object; anything else is <c>INVALID_MESSAGE</c>.</summary>
    public static JsonDocument ParseObject(ReadOnlyMemory<byte> body)
    {
        // The JSON reader only checks UTF-8 of the strings it is asked for; check the whole body up front.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
            throw new NonRetryableException(ErrorCodes.InvalidMessage, "The message is not valid UTF-8.");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, ReaderOptions);
        }
        catch (JsonException ex)
        {
            throw new NonRetryableException(ErrorCodes.InvalidMessage, $"The message is not valid JSON: {TextExcerpt.Of(ex.Message, 200)}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new NonRetryableException(ErrorCodes.InvalidMessage, "The message must be a JSON object.");
        }

        return document;
    }

    public static string RequiredString(JsonElement parent, string name, string path, int max = MaxText) =>
        OptionalString(parent, name, path, max) ?? throw Missing(Join(path, name));

    /// <summary>A string field of at most <paramref name="max"/> characters; blank counts as missing.</summary>
    public static string? OptionalString(JsonElement parent, string name, string path, int max = MaxText)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw Invalid(Join(path, name), "must be a string");
        var text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text)) throw Missing(Join(path, name));
        if (text.Length > max) throw Invalid(Join(path, name), $"must be at most {max} characters (it has {text.Length})");
        return text;
    }

    public static string RequiredId(JsonElement parent, string name, string path) =>
        OptionalId(parent, name, path) ?? throw Missing(Join(path, name));

    public static string? OptionalId(JsonElement parent, string name, string path)
    {
        var id = OptionalString(parent, name, path);
        if (id is not null && !EntityIds.IsValid(id))
            throw Invalid(Join(path, name), "must be " + EntityIds.Rule);
        return id;
    }

    public static TEnum RequiredEnum<TEnum>(JsonElement parent, string name, string path) where TEnum : struct, Enum
    {
        var text = RequiredString(parent, name, path);
        foreach (var value in Enum.GetValues<TEnum>())
            if (string.Equals(JsonNamingPolicy.SnakeCaseUpper.ConvertName(value.ToString()), text, StringComparison.Ordinal))
                return value;
        var allowed = string.Join(", ", Enum.GetValues<TEnum>().Select(v => JsonNamingPolicy.SnakeCaseUpper.ConvertName(v.ToString())));
        throw Invalid(Join(path, name), $"'{TextExcerpt.Of(text)}' is not one of {allowed}");
    }

    public static int RequiredPositiveInt(JsonElement parent, string name, string path, int max)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) throw Missing(Join(path, name));
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
            throw Invalid(Join(path, name), "must be a whole number");
        if (number <= 0) throw Invalid(Join(path, name), "must be positive");
        if (number > max) throw Invalid(Join(path, name), $"must be at most {max}");
        return number;
    }

    public static bool? OptionalBool(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(Join(path, name), "must be true or false"),
        };
    }

    public static DateTimeOffset RequiredTimestamp(JsonElement parent, string name, string path)
    {
        var text = RequiredString(parent, name, path);
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            || !text.Contains('T'))
            throw Invalid(Join(path, name), $"'{TextExcerpt.Of(text)}' is not an ISO-8601 date-time such as 2024-02-11T10:45:00Z");
        return at;
    }

    public static DateOnly? OptionalDate(JsonElement parent, string name, string path)
    {
        var text = OptionalString(parent, name, path);
        if (text is null) return null;
        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            throw Invalid(Join(path, name), $"'{TextExcerpt.Of(text)}' is not a date such as 2024-02-20");
        return date;
    }

    public static JsonElement? OptionalObject(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(Join(path, name), "must be an object");
        return value.Clone();
    }

    public static JsonElement RequiredObject(JsonElement parent, string name, string path) =>
        OptionalObject(parent, name, path) ?? throw Missing(Join(path, name));

    public static JsonElement RequiredArray(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) throw Missing(Join(path, name));
        if (value.ValueKind != JsonValueKind.Array) throw Invalid(Join(path, name), "must be an array");
        return value;
    }

    public static NonRetryableException Missing(string path) =>
        new(ErrorCodes.MissingField, $"Required field '{path}' is missing.", new Dictionary<string, string> { ["field"] = path });

    public static NonRetryableException Invalid(string path, string problem) =>
        new(ErrorCodes.InvalidField, $"Field '{path}' {problem}.", new Dictionary<string, string> { ["field"] = path });

    public static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    public static string Index(string path, string name, int index) => $"{Join(path, name)}[{index}]";
}
