namespace O2X.Actors.Usage;

/// <summary>A price band: billable units from <see cref="From"/> on (counted in the month, after the allowance) cost <see cref="Rate"/> each.</summary>
internal sealed record PriceBand(long From, decimal Rate);

/// <summary>
/// A rating plan for one service: quantities are rounded up to whole billable units of <see cref="UnitSize"/>
/// (60 seconds = per minute, 1,048,576 bytes = per MB, 1 = per event), the first <see cref="IncludedUnits"/> of
/// each month are free, the rest are priced by graduated <see cref="Bands"/> (each unit at the band it falls in).
/// </summary>
internal sealed record PricePlan(string Id, string ServiceType, string UnitName, long UnitSize, long IncludedUnits, IReadOnlyList<PriceBand> Bands)
{
    public IEnumerable<string> Validate()
    {
        if (UnitSize < 1) yield return $"plan {Id}: unit size must be positive";
        if (IncludedUnits < 0) yield return $"plan {Id}: included units must not be negative";
        if (Bands.Count == 0 || Bands[0].From != 0) yield return $"plan {Id}: the first band must start at 0";
        for (var i = 1; i < Bands.Count; i++)
            if (Bands[i].From <= Bands[i - 1].From) yield return $"plan {Id}: bands must start at increasing units";
        if (Bands.Any(b => b.Rate < 0)) yield return $"plan {Id}: rates must not be negative";
    }
}

/// <summary>What rating one record gives: billable units, how many the allowance covered, and the amount.</summary>
internal readonly record struct RatingResult(long Units, long Included, decimal Amount);

/// <summary>
/// The pure rating function: no I/O, no allocation. <paramref name="usedBefore"/> is the account's billable units of
/// this service earlier in the month (allowance included); the record's units continue from there. Amounts keep
/// four decimals (sub-cent rates), rounded half away from zero.
/// </summary>
internal static class Rating
{
    public static RatingResult Rate(PricePlan plan, long usedBefore, long quantity) => Rate(plan, usedBefore, quantity, null);

    /// <summary>
    /// As <see cref="Rate(PricePlan,long,long)"/>, and writes how the units fell into the plan's bands to <paramref name="bands"/>
    /// (what the invoice shows per band): <c>i=N</c> for units the allowance covered, <c>{from}@{rate}={units}</c> per band,
    /// separated by ';' — e.g. <c>i=100;0@0.05=900;1000@0.03=13</c>. <see cref="ParseBands"/> reads it back.
    /// </summary>
    public static RatingResult Rate(PricePlan plan, long usedBefore, long quantity, System.Text.StringBuilder? bands)
    {
        if (quantity <= 0) return new RatingResult(0, 0, 0m);
        var units = (quantity + plan.UnitSize - 1) / plan.UnitSize;
        var included = Math.Min(units, Math.Max(0, plan.IncludedUnits - usedBefore));
        var chargeable = units - included;
        if (bands is not null && included > 0) bands.Append("i=").Append(included.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Position of the first chargeable unit among the month's chargeable units.
        var position = Math.Max(0, usedBefore - plan.IncludedUnits);
        var amount = 0m;
        var text = bands;
        var bandList = plan.Bands;
        for (var i = 0; i < bandList.Count && chargeable > 0; i++)
        {
            var end = i + 1 < bandList.Count ? bandList[i + 1].From : long.MaxValue;
            if (position >= end) continue;
            var inBand = Math.Min(chargeable, end - position);
            amount += inBand * bandList[i].Rate;
            if (text is not null)
            {
                if (text.Length > 0) text.Append(';');
                text.Append(bandList[i].From.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('@')
                    .Append(bandList[i].Rate.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('=')
                    .Append(inBand.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            position += inBand;
            chargeable -= inBand;
        }

        return new RatingResult(units, included, Math.Round(amount, 4, MidpointRounding.AwayFromZero));
    }

    /// <summary>A record's units per band: <c>From</c> null for the allowance; false when <paramref name="text"/> is not in the format.</summary>
    public static bool ParseBands(string? text, List<(long? From, decimal Rate, long Units)> into)
    {
        into.Clear();
        if (string.IsNullOrEmpty(text)) return false;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var part in text.Split(';'))
        {
            var eq = part.IndexOf('=');
            if (eq < 0 || !long.TryParse(part.AsSpan(eq + 1), System.Globalization.NumberStyles.None, inv, out var units)) return false;
            if (part.StartsWith("i=", StringComparison.Ordinal))
            {
                into.Add((null, 0m, units));
                continue;
            }

            var at = part.IndexOf('@');
            if (at < 0 || at > eq ||
                !long.TryParse(part.AsSpan(0, at), System.Globalization.NumberStyles.None, inv, out var from) ||
                !decimal.TryParse(part.AsSpan(at + 1, eq - at - 1), System.Globalization.NumberStyles.Number, inv, out var rate))
                return false;
            into.Add((from, rate, units));
        }

        return true;
    }
}

/// <summary>The rating plans by id, and the default plan of each service.</summary>
internal sealed class RatingCatalog
{
    private readonly Dictionary<string, PricePlan> _plans;
    private readonly Dictionary<string, string> _defaults;

    public RatingCatalog(IEnumerable<PricePlan> plans, IReadOnlyDictionary<string, string> defaultPlanPerService)
    {
        _plans = plans.ToDictionary(p => p.Id, StringComparer.Ordinal);
        _defaults = new Dictionary<string, string>(defaultPlanPerService, StringComparer.Ordinal);
        var problems = _plans.Values.SelectMany(p => p.Validate())
            .Concat(_defaults.Where(d => !_plans.ContainsKey(d.Value)).Select(d => $"default plan {d.Value} of {d.Key} does not exist"))
            .ToList();
        if (problems.Count > 0) throw new ArgumentException("Invalid rating catalog: " + string.Join("; ", problems));
    }

    /// <summary>
    /// O2X's standard plans: voice per started minute (100 included, 0.05 then 0.03 from the 1,001st chargeable
    /// minute), data per started MB (1,024 included, 0.01 then 0.005 from 10,240 MB), SMS per message (50 included,
    /// 0.02); and PLAN-2024-NEW, the seed's re-rating example (voice, no allowance, 0.04 per minute).
    /// </summary>
    public static RatingCatalog Default { get; } = new(
    [
        new PricePlan("PLAN-VOICE-STD", "VOICE", "MINUTE", 60, 100, [new PriceBand(0, 0.05m), new PriceBand(1000, 0.03m)]),
        new PricePlan("PLAN-DATA-STD", "DATA", "MB", 1_048_576, 1024, [new PriceBand(0, 0.01m), new PriceBand(10_240, 0.005m)]),
        new PricePlan("PLAN-SMS-STD", "SMS", "SMS", 1, 50, [new PriceBand(0, 0.02m)]),
        new PricePlan("PLAN-2024-NEW", "VOICE", "MINUTE", 60, 0, [new PriceBand(0, 0.04m)]),
    ], new Dictionary<string, string> { ["VOICE"] = "PLAN-VOICE-STD", ["DATA"] = "PLAN-DATA-STD", ["SMS"] = "PLAN-SMS-STD" });

    public PricePlan? Plan(string id) => _plans.GetValueOrDefault(id);

    public IEnumerable<PricePlan> Plans => _plans.Values;

    /// <summary>This catalog with price-sync's dated versions on top (built-in plans count as in force since ever).</summary>
    public EffectiveCatalog With(IEnumerable<PricePlanVersion> versions) => new(_plans.Values, _defaults, versions);

    public bool IsDefault(string planId) => _defaults.Values.Contains(planId, StringComparer.Ordinal);
}

/// <summary>A plan as price-sync set it from <see cref="EffectiveFrom"/> on; a retired version ends the plan from then.</summary>
internal sealed record PricePlanVersion(string PlanId, DateTime EffectiveFrom, bool Retired, PricePlan? Plan);

/// <summary>The plans as they were at any time: the latest version at or before that time wins.</summary>
internal sealed class EffectiveCatalog
{
    private readonly Dictionary<string, List<PricePlanVersion>> _versions;
    private readonly IReadOnlyDictionary<string, string> _defaults;

    internal EffectiveCatalog(IEnumerable<PricePlan> plans, IReadOnlyDictionary<string, string> defaults, IEnumerable<PricePlanVersion> versions)
    {
        _defaults = defaults;
        _versions = plans.Select(p => new PricePlanVersion(p.Id, DateTime.MinValue, false, p)).Concat(versions)
            .GroupBy(v => v.PlanId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(v => v.EffectiveFrom).ToList(), StringComparer.Ordinal);
    }

    public bool Knows(string planId) => _versions.ContainsKey(planId);

    /// <summary>The plan in force at <paramref name="at"/>, or null when it did not exist yet or was retired.</summary>
    public PricePlan? PlanAt(string planId, DateTime at)
    {
        if (!_versions.TryGetValue(planId, out var versions)) return null;
        PricePlanVersion? current = null;
        foreach (var version in versions)
        {
            if (version.EffectiveFrom > at) break;
            current = version;
        }

        return current is { Retired: false } ? current.Plan : null;
    }

    public PricePlan? DefaultAt(string serviceType, DateTime at) => _defaults.TryGetValue(serviceType, out var id) ? PlanAt(id, at) : null;
}
