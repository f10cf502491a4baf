using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace O2X.Actors.Messaging;

/// <summary>
/// Card data in inbound messages: where it is (<see cref="Find"/>), and the form a message carrying it may be kept in
/// (<see cref="Redact"/>): never the card number itself — the body is withheld and only its SHA-256, its size and the
/// path of the offending field are kept, so an operator can still match it with the sender's copy.
/// </summary>
internal static class CardData
{
    private static readonly JsonReaderOptions Lenient = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>What <see cref="Find(ReadOnlySpan{byte})"/> said of each envelope's body (an envelope's body never changes).</summary>
    private static readonly ConditionalWeakTable<MessageEnvelope, StrongBox<string?>> Found = new();

    /// <summary>
    /// <see cref="Find(ReadOnlySpan{byte})"/> of the envelope's body, looked for once per envelope: the guard in front of every
    /// handler and the intake record the handler keeps ask about the same message.
    /// </summary>
    public static string? Find(MessageEnvelope envelope) =>
        Found.GetValue(envelope, static e => new StrongBox<string?>(Find(e.Body.Span))).Value;

    /// <summary>The JSON path of the first field holding a card number (<c>body</c> when the message is not JSON), or null.</summary>
    public static string? Find(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        // Invalid UTF-8 is searched as the text it decodes to; valid UTF-8 as it is, without a string in between.
        var utf8 = Utf8.IsValid(body) ? body : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body));
        var reader = new Utf8JsonReader(utf8, Lenient);
        try
        {
            using var document = JsonDocument.ParseValue(ref reader);
            if (!reader.Read()) return PathIn(document);
        }
        catch (JsonException)
        {
            // Not JSON (or more than one value): the text is searched as a whole, below.
        }

        return CardNumberDetector.ContainsCardNumber(Encoding.UTF8.GetString(utf8)) ? "body" : null;
    }

    private static string? PathIn(JsonDocument document) =>
        CardNumberDetector.FindCardNumber(document.RootElement) is { } path ? (path.Length == 0 ? "$" : path) : null;

    /// <summary>The body as it may be stored: unchanged, or — when it carries a card number — a placeholder without it.</summary>
    public static (string Body, bool Redacted) Redact(ReadOnlySpan<byte> body)
    {
        var path = Find(body);
        if (path is null) return (Encoding.UTF8.GetString(body), false);
        return (Placeholder(body, path), true);
    }

    /// <summary>The stored form of a message withheld for its card data.</summary>
    public static string Placeholder(ReadOnlySpan<byte> body, string path) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["o2x_redacted"] = "the message carried a payment card number and is not kept",
        ["field"] = TextExcerpt.Of(path, 256),
        ["bytes"] = body.Length,
        ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(body)),
    });

    /// <summary>The bytes a dead letter or any other verbatim copy of <paramref name="body"/> may keep.</summary>
    public static byte[] StorableBytes(ReadOnlySpan<byte> body) =>
        Find(body) is { } path ? Encoding.UTF8.GetBytes(Placeholder(body, path)) : body.ToArray();
}

/// <summary>
/// Refuses, on every queue, a message that carries a payment card number (<c>CARD_NUMBER_NOT_ALLOWED</c>) before its
/// handler sees it: O2X stores payment tokens only. The refusal names the field, never the value; what is recorded of
/// the message is redacted (<see cref="CardData.Redact"/>).
/// </summary>
internal sealed class CardDataGuard(IMessageHandler inner) : IMessageHandler
{
    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        if (CardData.Find(envelope) is { } path)
        {
            var field = TextExcerpt.Of(path, 128);
            throw new NonRetryableException(ErrorCodes.CardNumberNotAllowed,
                $"Field '{field}' looks like a payment card number; send the payment processor's token instead.",
                new Dictionary<string, string> { ["field"] = field });
        }

        return inner.Plan(envelope);
    }
}
