using System.Globalization;
using System.Text.Json;

namespace O2X.Actors.Messaging;

/// <summary>
/// Finds payment card numbers (PANs) in a message, in the forms a person would still read as one: 13-19 digits
/// (any Unicode decimal digits, e.g. full-width ones), unbroken or in groups separated by spaces, dashes, dots,
/// slashes or underscores, in a string, a number (also in exponent form), a property name, or split over a short
/// array (<c>["4111","1111","1111","1111"]</c>); a candidate counts when it starts with a card scheme's issuer range
/// (IIN) and passes the Luhn check. O2X stores payment tokens only: a message carrying a PAN is refused
/// (<see cref="CardDataGuard"/>) and never stored in clear (<see cref="CardData.Redact"/>).
/// </summary>
internal static class CardNumberDetector
{
    private const int MinDigits = 13;
    private const int MaxDigits = 19;

    /// <summary>Consecutive separator characters a person still reads through (e.g. "4111 - 1111").</summary>
    private const int MaxSeparatorRun = 3;

    /// <summary>The JSON path of the first value (or property name) that holds a PAN, or <c>null</c>.</summary>
    public static string? FindCardNumber(JsonElement element) => MayHoldCardNumber(element) ? FindPath(element, "") : null;

    private static string? FindPath(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (ContainsCardNumber(property.Name)) return (path.Length == 0 ? "" : path + ".") + "(a property name)";
                    var childPath = path.Length == 0 ? property.Name : path + "." + property.Name;
                    var found = FindPath(property.Value, childPath);
                    if (found is not null) return found;
                }

                return null;
            case JsonValueKind.Array:
                if (SplitOverArray(element)) return path;
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    var found = FindPath(item, $"{path}[{index++}]");
                    if (found is not null) return found;
                }

                return null;
            case JsonValueKind.String:
                return ContainsCardNumber(element.GetString()!) ? path : null;
            case JsonValueKind.Number:
                return NumberIsCardNumber(element) ? path : null;
            default:
                return null;
        }
    }

    /// <summary>
    /// Whether anything in <paramref name="element"/> could hold a PAN, judged from the raw UTF-8 without a string or a
    /// path per value: no value or property name has a run of 13 digits (by the separator rules of
    /// <see cref="ContainsCardNumber"/>), and no short array of bare digit groups adds up to 13. An escape, a non-ASCII
    /// byte (another script's digits or separators) or a number's exponent counts as "could". Most messages hold none,
    /// and the full search builds a string for every value and a path for every property.
    /// </summary>
    private static bool MayHoldCardNumber(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (Scan(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(property), number: false).LongestRun >= MinDigits) return true;
                    if (MayHoldCardNumber(property.Value)) return true;
                }

                return false;
            case JsonValueKind.Array:
                var length = element.GetArrayLength();
                var kind = JsonValueKind.Undefined;
                var splittable = length is >= 2 and <= 6;
                var joined = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (MayHoldCardNumber(item)) return true;
                    if (!splittable) continue;
                    if (kind == JsonValueKind.Undefined) kind = item.ValueKind;
                    if (item.ValueKind != kind || kind is not (JsonValueKind.String or JsonValueKind.Number))
                    {
                        splittable = false;
                        continue;
                    }

                    var (digits, _, bare) = Scan(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(item), kind == JsonValueKind.Number);
                    if (bare) joined += digits;
                    else splittable = false;
                }

                return splittable && joined >= MinDigits;
            case JsonValueKind.String or JsonValueKind.Number:
                return Scan(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element), element.ValueKind == JsonValueKind.Number).LongestRun >= MinDigits;
            default:
                return false;
        }
    }

    /// <summary>
    /// Raw JSON text (quotes, if any, dropped): its longest run of digits, its digits, and whether it is nothing but digits
    /// and separators. Anything this cannot judge from ASCII (an escape, a non-ASCII byte, an exponent) answers
    /// <see cref="MinDigits"/> for both counts and bare.
    /// </summary>
    private static (int LongestRun, int Digits, bool Bare) Scan(ReadOnlySpan<byte> raw, bool number)
    {
        if (raw.Length >= 2 && raw[0] == (byte)'"' && raw[^1] == (byte)'"') raw = raw[1..^1];
        int longest = 0, run = 0, separators = 0, digits = 0;
        var bare = raw.Length > 0;
        foreach (var b in raw)
        {
            if (b is >= (byte)'0' and <= (byte)'9')
            {
                digits++;
                separators = 0;
                if (++run > longest) longest = run;
            }
            else if (b is (byte)'\\' || b >= 0x80 || (number && b is (byte)'e' or (byte)'E'))
            {
                return (MinDigits, MinDigits, true);
            }
            else if (b is (byte)' ' or (byte)'-' or (byte)'.' or (byte)'/' or (byte)'_' or (byte)'\t')
            {
                if (++separators > MaxSeparatorRun) run = separators = 0;
            }
            else
            {
                run = separators = 0;
                bare = false;
            }
        }

        return (longest, digits, bare);
    }

    /// <summary>Whether <paramref name="text"/> contains a PAN anywhere (see the class summary for the forms).</summary>
    public static bool ContainsCardNumber(ReadOnlySpan<char> text)
    {
        if (text.Length < MinDigits) return false;
        var digitBuffer = System.Buffers.ArrayPool<byte>.Shared.Rent(text.Length);
        var groupBuffer = System.Buffers.ArrayPool<int>.Shared.Rent(text.Length);
        try
        {
            var i = 0;
            while (i < text.Length)
            {
                if (DigitValue(text[i]) < 0)
                {
                    i++;
                    continue;
                }

                // A run: digits with short separator runs between them; groups are the digit stretches.
                var count = 0;
                var groups = 0;
                var separators = 0;
                groupBuffer[groups++] = 0;
                for (; i < text.Length; i++)
                {
                    var value = DigitValue(text[i]);
                    if (value >= 0)
                    {
                        if (separators > 0) groupBuffer[groups++] = count;
                        separators = 0;
                        digitBuffer[count++] = (byte)value;
                    }
                    else if (!IsSeparator(text[i]) || ++separators > MaxSeparatorRun)
                    {
                        break;
                    }
                }

                if (RunHoldsCardNumber(digitBuffer.AsSpan(0, count), groupBuffer.AsSpan(0, groups))) return true;
            }

            return false;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(digitBuffer);
            System.Buffers.ArrayPool<int>.Shared.Return(groupBuffer);
        }
    }

    /// <summary>
    /// Candidates in a run start and end at group boundaries (a card written inside a longer run of unbroken digits is
    /// a different number); any that is 13-19 digits long, in an issuer range and Luhn-valid is a PAN.
    /// </summary>
    private static bool RunHoldsCardNumber(ReadOnlySpan<byte> digits, ReadOnlySpan<int> groupStarts)
    {
        if (digits.Length < MinDigits) return false;
        for (var s = 0; s < groupStarts.Length; s++)
        {
            var start = groupStarts[s];
            for (var e = s; e < groupStarts.Length; e++)
            {
                var end = e + 1 < groupStarts.Length ? groupStarts[e + 1] : digits.Length;
                var length = end - start;
                if (length > MaxDigits) break;
                if (length >= MinDigits && IsCardNumber(digits[start..end])) return true;
            }
        }

        return false;
    }

    /// <summary>A number value: its digits as written (<c>4111111111111111</c>, <c>4.111111111111111E15</c>) or its integer value.</summary>
    private static bool NumberIsCardNumber(JsonElement number)
    {
        var raw = number.GetRawText();
        if (ContainsCardNumber(raw)) return true;
        return number.TryGetDecimal(out var value) && value >= 1e12m && value < 1e19m && value == decimal.Truncate(value)
               && ContainsCardNumber(value.ToString("0", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// A PAN written as a short array of digit groups: 2-6 strings of digits (with separators), or numbers grouped the way
    /// cards are printed (4-4-4-4, 4-6-5). Longer arrays are lists of things (record ids), not one number.
    /// </summary>
    private static bool SplitOverArray(JsonElement array)
    {
        var length = array.GetArrayLength();
        if (length is < 2 or > 6) return false;
        var joined = new System.Text.StringBuilder();
        var sizes = new List<int>(length);
        var kind = JsonValueKind.Undefined;
        foreach (var item in array.EnumerateArray())
        {
            if (kind == JsonValueKind.Undefined) kind = item.ValueKind;
            if (item.ValueKind != kind) return false;
            var text = item.ValueKind switch
            {
                JsonValueKind.String => item.GetString()!,
                JsonValueKind.Number => item.GetRawText(),
                _ => null,
            };
            if (text is null || text.Length == 0) return false;
            var digits = 0;
            foreach (var c in text)
            {
                if (DigitValue(c) >= 0) digits++;
                else if (!IsSeparator(c)) return false;
            }

            if (digits == 0) return false;
            sizes.Add(digits);
            joined.Append(text).Append(' ');
        }

        if (kind == JsonValueKind.Number && !(sizes is [4, 4, 4, 4] or [4, 6, 5] or [4, 4, 4, 4, 3])) return false;
        return ContainsCardNumber(joined.ToString());
    }

    private static bool IsCardNumber(ReadOnlySpan<byte> digits) => InIssuerRange(digits) && PassesLuhn(digits);

    /// <summary>The leading digits of the card schemes in use (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro, Mir, RuPay).</summary>
    private static bool InIssuerRange(ReadOnlySpan<byte> d)
    {
        var two = d[0] * 10 + d[1];
        var four = two * 100 + d[2] * 10 + d[3];
        return d[0] switch
        {
            4 => true,
            5 => two is >= 50 and <= 58,
            2 => four is >= 2200 and <= 2204 or >= 2221 and <= 2720,
            3 => two is 30 or 34 or 35 or 36 or 37 or 38 or 39,
            6 => true,
            8 => two is 81 or 82,
            _ => false,
        };
    }

    private static bool PassesLuhn(ReadOnlySpan<byte> digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            int d = digits[i];
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

    /// <summary>The value of any Unicode decimal digit (ASCII, full-width, Arabic-Indic, …), or -1.</summary>
    private static int DigitValue(char c) => c is >= '0' and <= '9' ? c - '0' : c < 128 ? -1 : CharUnicodeInfo.GetDecimalDigitValue(c);

    private static bool IsSeparator(char c) =>
        c is ' ' or '-' or '.' or '/' or '_' or '\t' || (c >= 128 && (char.IsWhiteSpace(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.DashPunctuation));
}
