using System.Globalization;
using O2X.Actors.Messaging;
using Sylvan.Data.Csv;

namespace O2X.Actors.Usage;

/// <summary>Reads one vendor's CDR format, streaming: rows are yielded as they are read, never the whole file.</summary>
internal interface IUsageParser
{
    /// <summary>The <c>vendor_format</c> of MEDIATION messages this parser reads.</summary>
    string Format { get; }

    IEnumerable<ParsedRow> Parse(TextReader reader, string vendor);
}

/// <summary>The parsers by <c>vendor_format</c>.</summary>
internal sealed class UsageParsers(IEnumerable<IUsageParser> parsers)
{
    private readonly Dictionary<string, IUsageParser> _byFormat = parsers.ToDictionary(p => p.Format, StringComparer.Ordinal);

    public static UsageParsers Default { get; } = new([new McmVoiceV2Parser(), new CanonicalUsageParser()]);

    public IEnumerable<string> Formats => _byFormat.Keys.Order(StringComparer.Ordinal);

    public IUsageParser? For(string format) => _byFormat.GetValueOrDefault(format);
}

/// <summary>Shared CSV handling: a header row, comma separated, quoted fields allowed (Sylvan.Data.Csv).</summary>
internal abstract class CsvUsageParser : IUsageParser
{
    public abstract string Format { get; }

    protected abstract string[] Columns { get; }

    public IEnumerable<ParsedRow> Parse(TextReader reader, string vendor)
    {
        using var csv = Guarded(() => CsvDataReader.Create(reader, new CsvDataReaderOptions { HasHeaders = true, Delimiter = ',', BufferSize = MaxRowChars }), 1);
        var header = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < csv.FieldCount; i++) header.TryAdd(csv.GetName(i).Trim(), i);
        var ordinals = new int[Columns.Length];
        for (var i = 0; i < Columns.Length; i++)
        {
            ordinals[i] = header.TryGetValue(Columns[i], out var ordinal)
                ? ordinal
                : throw new NonRetryableException(ErrorCodes.InvalidMessage,
                    $"The {Format} file has no '{Columns[i]}' column (expected: {string.Join(",", Columns)}).");
        }

        var values = new string[Columns.Length];
        long row = 1; // the header is row 1
        while (Guarded(csv.Read, row + 1))
        {
            row++;
            for (var i = 0; i < values.Length; i++) values[i] = ordinals[i] < csv.FieldCount ? csv.GetString(ordinals[i]).Trim() : "";
            UsageRecord? record = null;
            string? error;
            try
            {
                record = Map(values, vendor, out error);
            }
            catch (FormatException ex)
            {
                error = ex.Message;
            }

            yield return new ParsedRow(row, record, record is null ? error ?? "invalid row" : null, record is null ? string.Join(",", values) : "");
        }
    }

    /// <summary>The canonical record, or null with <paramref name="error"/> saying why the row is refused.</summary>
    protected abstract UsageRecord? Map(string[] values, string vendor, out string? error);

    protected static bool Present(string[] values, string[] names, out string? error)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].Length > 0) continue;
            error = $"{names[i]} is missing";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>The longest CSV row (in characters) a CDR file may have; a longer one makes the file unreadable, not worth a retry.</summary>
    public const int MaxRowChars = 64 * 1024;

    private T Guarded<T>(Func<T> read, long row)
    {
        try
        {
            return read();
        }
        catch (CsvRecordTooLargeException)
        {
            throw new NonRetryableException(ErrorCodes.InvalidMessage,
                $"Row {row} of the {Format} file is longer than {MaxRowChars} characters: this is not a CDR file O2X can read.");
        }
    }

    protected static DateTime Time(string value, string name) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime
            : throw new FormatException($"{name} '{TextExcerpt.Of(value)}' is not an ISO-8601 time");

    /// <summary>The most units one usage record may carry (a terabyte of data, 30,000 years of seconds): beyond it rating could overflow.</summary>
    public const long MaxQuantity = 1_000_000_000_000;

    protected static long NonNegative(string value, string name) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= MaxQuantity
            ? n
            : throw new FormatException($"{name} '{TextExcerpt.Of(value)}' is not a whole number from 0 to {MaxQuantity}");

    protected static string Account(string value) =>
        EntityIds.IsValid(value) ? value : throw new FormatException($"account_id '{TextExcerpt.Of(value)}' is not a valid id ({EntityIds.Rule})");
}

/// <summary>
/// MCM voice CDRs, version 2: <c>record_id,calling_number,called_number,start_time,duration_seconds,account_id,cell_id</c>
/// (start time ISO-8601, UTC unless an offset is given).
/// </summary>
internal sealed class McmVoiceV2Parser : CsvUsageParser
{
    public override string Format => "MCM_VOICE_V2";

    protected override string[] Columns { get; } = ["record_id", "calling_number", "called_number", "start_time", "duration_seconds", "account_id", "cell_id"];

    protected override UsageRecord? Map(string[] v, string vendor, out string? error)
    {
        // cell_id may be empty (calls over a trunk carry none).
        if (!Present(v[..6], Columns[..6], out error)) return null;
        return new UsageRecord(vendor + ":" + v[0], v[0], "VOICE", Account(v[5]), v[1], v[2], Time(v[3], "start_time"),
            NonNegative(v[4], "duration_seconds"), UsageUnits.Seconds, v[6].Length == 0 ? null : v[6], vendor);
    }
}

/// <summary>
/// O2X's own canonical CSV for any service, used for DATA and SMS:
/// <c>record_id,service_type,account_id,subscriber,start_time,quantity,unit,location</c> — service_type VOICE|DATA|SMS,
/// unit SECONDS|BYTES|EVENTS matching it.
/// </summary>
internal sealed class CanonicalUsageParser : CsvUsageParser
{
    public override string Format => "O2X_USAGE_V1";

    protected override string[] Columns { get; } = ["record_id", "service_type", "account_id", "subscriber", "start_time", "quantity", "unit", "location"];

    private static readonly Dictionary<string, string> UnitOf = new(StringComparer.Ordinal)
    {
        ["VOICE"] = UsageUnits.Seconds, ["DATA"] = UsageUnits.Bytes, ["SMS"] = UsageUnits.Events,
    };

    protected override UsageRecord? Map(string[] v, string vendor, out string? error)
    {
        if (!Present([v[0], v[1], v[2], v[4], v[5], v[6]], ["record_id", "service_type", "account_id", "start_time", "quantity", "unit"], out error)) return null;
        if (!UnitOf.TryGetValue(v[1], out var unit)) throw new FormatException($"service_type '{TextExcerpt.Of(v[1])}' is not one of VOICE, DATA, SMS");
        if (v[6] != unit) throw new FormatException($"unit '{TextExcerpt.Of(v[6])}' does not fit service_type {v[1]} (expected {unit})");
        return new UsageRecord(vendor + ":" + v[0], v[0], v[1], Account(v[2]), v[3].Length == 0 ? null : v[3], null, Time(v[4], "start_time"),
            NonNegative(v[5], "quantity"), unit, v[7].Length == 0 ? null : v[7], vendor);
    }
}
