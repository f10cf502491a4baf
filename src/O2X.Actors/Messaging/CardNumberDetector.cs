using System.Text.Json;

namespace O2X.Actors.Messaging;

/// <summary>
/// Finds things that look like payment card numbers (PANs) in a message: 13-19 digits, optionally grouped
/// by single spaces or dashes, starting like a card scheme (2-6) and passing the Luhn check. O2X stores
/// payment tokens only; a message carrying a PAN is refused before anything is stored or logged.
/// </summary>
public static class CardNumberDetector
{
    /// <summary>The JSON path of the first string or number that looks like a PAN, or <c>null</c>.</summary>
    public static string? FindCardNumber(JsonElement element, string path = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var found = FindCardNumber(property.Value, path.Length == 0 ? property.Name : path + "." + property.Name);
                    if (found is not null) return found;
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    var found = FindCardNumber(item, $"{path}[{index++}]");
                    if (found is not null) return found;
                }

                return null;
            case JsonValueKind.String:
                return ContainsCardNumber(element.GetString()!) ? path : null;
            case JsonValueKind.Number:
                return ContainsCardNumber(element.GetRawText()) ? path : null;
            default:
                return null;
        }
    }

    public static bool ContainsCardNumber(string text)
    {
        Span<byte> digits = stackalloc byte[19];
        for (var start = 0; start < text.Length; start++)
        {
            if (!char.IsAsciiDigit(text[start]) || (start > 0 && char.IsAsciiDigit(text[start - 1]))) continue;
            var count = 0;
            for (var i = start; i < text.Length && count < 19; i++)
            {
                var c = text[i];
                if (char.IsAsciiDigit(c))
                {
                    digits[count++] = (byte)(c - '0');
                    if (count >= 13 && !FollowedByDigit(text, i) && digits[0] is >= 2 and <= 6 && PassesLuhn(digits[..count]))
                        return true;
                }
                else if ((c == ' ' || c == '-') && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]) && i > start && char.IsAsciiDigit(text[i - 1]))
                {
                    // a single separator between digit groups
                }
                else
                {
                    break;
                }
            }
        }

        return false;
    }

    private static bool FollowedByDigit(string text, int i) => i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]);

    private static bool PassesLuhn(ReadOnlySpan<byte> digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i];
            if (doubleIt)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return sum % 10 == 0;
    }
}
