using System.Globalization;

namespace O2X.Actors.Invoicing;

/// <summary>
/// One billing cycle of an account: the days from <see cref="Start"/> up to, not including, <see cref="End"/> (a month from
/// the account's cycle day). Its label is the <c>yyyy-MM</c> of the month it starts in, so the run for "2024-02" bills each
/// account's cycle that starts in February 2024 — 1 to 29 February for a calendar-month account, 15 February to 14 March
/// for one whose cycle day is 15.
/// </summary>
internal readonly record struct BillingPeriod(DateOnly Start, DateOnly End)
{
    /// <summary>The first label a run accepts: nothing in O2X predates it.</summary>
    public static readonly DateOnly Earliest = new(2000, 1, 1);

    public int Days => End.DayNumber - Start.DayNumber;

    public string Label => LabelOf(Start);

    public bool Contains(DateOnly day) => day >= Start && day < End;

    /// <summary>Ended when its last day is over (UTC): a cycle is billed the day after.</summary>
    public bool HasEnded(DateOnly today) => today >= End;

    public static string LabelOf(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>The cycle labelled <paramref name="month"/> (its first day) of an account whose cycle starts on <paramref name="cycleDay"/>.</summary>
    public static BillingPeriod Of(DateOnly month, int cycleDay)
    {
        if (cycleDay is < 1 or > 28) throw new ArgumentOutOfRangeException(nameof(cycleDay), cycleDay, "A cycle day is 1-28.");
        var start = new DateOnly(month.Year, month.Month, cycleDay);
        return new BillingPeriod(start, start.AddMonths(1));
    }

    /// <summary>Reads a label (<c>yyyy-MM</c>) as its month's first day; false for anything else or before 2000.</summary>
    public static bool TryParseLabel(string? text, out DateOnly month)
    {
        month = default;
        if (text is not { Length: 7 } ||
            !DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) ||
            parsed < Earliest)
            return false;
        month = parsed;
        return true;
    }

    /// <summary>The first day of the month <paramref name="day"/> is in.</summary>
    public static DateOnly MonthOf(DateOnly day) => new(day.Year, day.Month, 1);
}
