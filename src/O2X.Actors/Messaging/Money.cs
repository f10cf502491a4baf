using System.Globalization;
using System.Text.Json;

namespace O2X.Actors.Messaging;

/// <summary>
/// Every amount that enters O2X (order prices and charges, bulk payments and adjustments, price-plan rates) is read
/// here: a JSON number no larger than <see cref="MaxAmount"/> in magnitude, with no more decimals than the currency's
/// minor unit (rates, which are prices per unit of usage, may have <see cref="RateScale"/>). Sums over stored amounts
/// saturate instead of throwing, so an account whose history was written before these bounds still reads.
/// </summary>
internal static class Money
{
    /// <summary>The largest amount (and rate) a message may carry: a billion in any currency.</summary>
    public const decimal MaxAmount = 1_000_000_000m;

    /// <summary>Decimals a per-unit rate may have (e.g. 0.000125 per KB).</summary>
    public const int RateScale = 6;

    /// <summary>Reads an amount in <paramref name="currency"/> (null: 2 decimals); <c>INVALID_FIELD</c> when out of bounds.</summary>
    public static decimal? OptionalAmount(JsonElement parent, string name, string path, string? currency, bool allowNegative = false) =>
        OptionalNumber(parent, name, path, currency is null ? 2 : Iso4217.MinorUnits(currency), allowNegative,
            currency is null ? "the currency's minor unit" : $"{currency}'s minor unit");

    /// <summary>Reads a per-unit rate: non-negative, at most <see cref="MaxAmount"/>, at most <see cref="RateScale"/> decimals.</summary>
    public static decimal? OptionalRate(JsonElement parent, string name, string path) =>
        OptionalNumber(parent, name, path, RateScale, allowNegative: false, "a rate");

    /// <summary>Checks an amount already read (<paramref name="field"/> names it in the refusal).</summary>
    public static decimal Check(decimal amount, string field, string? currency, bool allowNegative = false)
    {
        var scale = currency is null ? 2 : Iso4217.MinorUnits(currency);
        if (!allowNegative && amount < 0) throw JsonMessageReader.Invalid(field, "must not be negative");
        if (Math.Abs(amount) > MaxAmount) throw JsonMessageReader.Invalid(field, $"must be at most {MaxAmount.ToString("N0", CultureInfo.InvariantCulture)}");
        if (decimal.Round(amount, scale) != amount)
            throw JsonMessageReader.Invalid(field, $"must have at most {scale} decimal places ({currency ?? "the currency"}'s minor unit)");
        return amount;
    }

    /// <summary>A sum that stops at the largest (smallest) decimal instead of failing: stored history must stay readable.</summary>
    public static decimal SaturatingSum(IEnumerable<decimal> amounts)
    {
        var sum = 0m;
        foreach (var amount in amounts)
        {
            try
            {
                sum += amount;
            }
            catch (OverflowException)
            {
                sum = amount > 0 ? decimal.MaxValue : decimal.MinValue;
            }
        }

        return sum;
    }

    /// <summary>A product that cannot be represented is a defect of the message that asked for it, never worth a retry.</summary>
    public static decimal Multiply(decimal amount, int quantity, string what)
    {
        try
        {
            return amount * quantity;
        }
        catch (OverflowException)
        {
            throw new NonRetryableException(ErrorCodes.InvalidField, $"{what} is too large to compute ({quantity} × a price over the supported range).");
        }
    }

    private static decimal? OptionalNumber(JsonElement parent, string name, string path, int scale, bool allowNegative, string unit)
    {
        var field = JsonMessageReader.Join(path, name);
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var number)) throw JsonMessageReader.Invalid(field, "must be a number");
        if (!allowNegative && number < 0) throw JsonMessageReader.Invalid(field, "must not be negative");
        if (Math.Abs(number) > MaxAmount)
            throw JsonMessageReader.Invalid(field, $"must be at most {MaxAmount.ToString("N0", CultureInfo.InvariantCulture)}");
        if (decimal.Round(number, scale) != number) throw JsonMessageReader.Invalid(field, $"must have at most {scale} decimal places ({unit})");
        return number;
    }
}
