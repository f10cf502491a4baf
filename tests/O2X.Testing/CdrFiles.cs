using System.Globalization;
using System.Text;

namespace O2X.Testing;

/// <summary>Generates CDR files in the formats O2X mediates (for tests and benchmarks; streamed, any size).</summary>
public static class CdrFiles
{
    public const string McmVoiceHeader = "record_id,calling_number,called_number,start_time,duration_seconds,account_id,cell_id";
    public const string CanonicalHeader = "record_id,service_type,account_id,subscriber,start_time,quantity,unit,location";

    private static readonly DateTime Start = new(2024, 2, 11, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>One MCM_VOICE_V2 row: record <c>R{n}</c> of account <c>ACC-{n % accounts}</c>, a call of n % 3600 seconds.</summary>
    public static string McmVoiceRow(long n, int accounts = 500) => string.Create(CultureInfo.InvariantCulture,
        $"R{n:D9},+5068{n % 10_000_000:D7},+5062{(n * 7) % 10_000_000:D7},{Start.AddSeconds(n % 86_400):yyyy-MM-ddTHH:mm:ssZ},{n % 3600},ACC-{n % accounts:D4},CELL-{n % 97}");

    /// <summary>Writes a header and rows <paramref name="from"/>..<paramref name="from"/>+<paramref name="count"/>-1, then <paramref name="extra"/> lines.</summary>
    public static void WriteMcmVoice(string path, long from, long count, IEnumerable<string>? extra = null, int accounts = 500)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.WriteLine(McmVoiceHeader);
        for (var n = from; n < from + count; n++) writer.WriteLine(McmVoiceRow(n, accounts));
        foreach (var line in extra ?? []) writer.WriteLine(line);
    }
}
