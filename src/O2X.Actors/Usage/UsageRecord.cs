namespace O2X.Actors.Usage;

/// <summary>
/// The canonical usage record every vendor format is normalised to (seed §4.2 step 4), stored UNRATED.
/// <see cref="DedupKey"/> is <c>vendor:record id</c>: the same CDR delivered twice, in one file or two, is stored once.
/// </summary>
/// <param name="Quantity">Seconds (VOICE), bytes (DATA) or events (SMS), as <see cref="Unit"/> says.</param>
internal sealed record UsageRecord(
    string DedupKey,
    string RecordId,
    string ServiceType,
    string AccountId,
    string? Subscriber,
    string? Counterparty,
    DateTime StartedAt,
    long Quantity,
    string Unit,
    string? Location,
    string Vendor);

/// <summary>One data row of a CDR file: its record, or why it was refused.</summary>
internal sealed record ParsedRow(long RowNumber, UsageRecord? Record, string? Error, string Raw);

internal static class UsageUnits
{
    public const string Seconds = "SECONDS";
    public const string Bytes = "BYTES";
    public const string Events = "EVENTS";
}
