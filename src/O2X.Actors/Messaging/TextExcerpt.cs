using System.Globalization;
using System.Text;

namespace O2X.Actors.Messaging;

/// <summary>
/// How a value taken from a message may appear in an error text, a log line or a Problem Details answer: short
/// (at most <c>max</c> characters, then "…") and on one line — control characters, line and paragraph separators and
/// bidirectional overrides are written as <c>\n</c>, <c>\u2028</c>, … so a value can neither forge a log line nor
/// flood one.
/// </summary>
internal static class TextExcerpt
{
    public const int DefaultMax = 64;

    public static string Of(string? value, int max = DefaultMax)
    {
        if (value is null) return "";
        var builder = new StringBuilder(Math.Min(value.Length, max) + 8);
        var shown = 0;
        foreach (var c in value)
        {
            if (shown >= max)
            {
                if (builder.Length > 0 && char.IsHighSurrogate(builder[^1])) builder.Length--; // never half a character
                builder.Append('…');
                break;
            }

            shown++;
            if (c == '\n') builder.Append("\\n");
            else if (c == '\r') builder.Append("\\r");
            else if (c == '\t') builder.Append("\\t");
            else if (NeedsEscape(c)) builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else builder.Append(c);
        }

        return builder.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');
}
