using System.Text;
using O2X.Actors.Messaging;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Actors.Usage;

/// <summary>
/// The handler of the MEDIATION queue (seed §4.2 steps 2-7, service-mediation's MediationProcessor): reads the CDR
/// file the message names, streaming; normalises each row with the parser of its <c>vendor_format</c>; keeps refused
/// rows with their row number and reason; stores the rest UNRATED in batches of 1,000, deduplicated within the file
/// and against everything stored before. The job (id = message id) shows its progress while it runs. A redelivered
/// message whose job completed has no effect; one whose job was interrupted runs again and stores only what is missing.
/// </summary>
internal sealed class MediationProcessor(UsageStore store, UsageParsers parsers, UsageFileReaders readers) : IMessageHandler
{
    public const string HandlerName = "MediationProcessor";

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        using var document = ParseObject(envelope.Body);
        var root = document.RootElement;
        var serviceType = RequiredString(root, "service_type", "");
        var fileName = RequiredString(root, "file_name", "");
        var location = RequiredString(root, "file_location", "", max: 1024);
        var vendor = RequiredString(root, "vendor", "");
        var format = RequiredString(root, "vendor_format", "");
        if (serviceType is not ("VOICE" or "DATA" or "SMS")) throw Invalid("service_type", $"'{TextExcerpt.Of(serviceType)}' is not one of VOICE, DATA, SMS");
        var parser = parsers.For(format) ?? throw new NonRetryableException(ErrorCodes.UnsupportedFormat,
            $"vendor_format '{format}' has no parser (known: {string.Join(", ", parsers.Formats)}).");
        var (uri, reader) = readers.Resolve(location);
        var jobId = envelope.MessageId;
        return new HandlingPlan("mediation:" + jobId, ct => RunAsync(jobId, fileName, location, vendor, format, serviceType, uri, reader, parser, ct));
    }

    private async Task<HandlingOutcome> RunAsync(string jobId, string fileName, string location, string vendor, string format, string serviceType,
        Uri uri, IUsageFileReader reader, IUsageParser parser, CancellationToken ct)
    {
        var before = await store.BeginAsync(jobId, fileName, location, vendor, format, serviceType, ct);
        if (before?.Status == "COMPLETED") return HandlingOutcome.DuplicateWith(Facts(before));

        long read = 0, stored = 0, rejected = 0, duplicates = 0;
        try
        {
            // Parsing is synchronous (a CSV reader over a file stream); it runs off the stream's threads.
            await Task.Run(async () =>
            {
                await using var stream = await reader.OpenAsync(uri, ct);
                using var text = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
                var records = new List<UsageRecord>(UsageStore.BatchSize);
                var refused = new List<ParsedRow>();
                foreach (var row in parser.Parse(text, vendor))
                {
                    read++;
                    if (row.Record is { } record) records.Add(record);
                    else refused.Add(row);
                    if (records.Count < UsageStore.BatchSize) continue;
                    (stored, duplicates, rejected) = await FlushAsync(jobId, records, refused, stored, duplicates, rejected, ct);
                    await store.ProgressAsync(jobId, read, stored, rejected, duplicates, MediationStatus.Running, null, ct);
                }

                (stored, duplicates, rejected) = await FlushAsync(jobId, records, refused, stored, duplicates, rejected, ct);
            }, ct);
        }
        catch (NonRetryableException ex)
        {
            await store.ProgressAsync(jobId, read, stored, rejected, duplicates, MediationStatus.Failed, ex.Message, CancellationToken.None);
            throw;
        }

        await store.ProgressAsync(jobId, read, stored, rejected, duplicates, MediationStatus.Completed, null, ct);
        return HandlingOutcome.ProcessedWith(Facts(new MediationJob(jobId, fileName, location, vendor, format, serviceType, "COMPLETED", read, stored,
            rejected, duplicates, DateTime.UtcNow, DateTime.UtcNow, null)));
    }

    private async Task<(long Stored, long Duplicates, long Rejected)> FlushAsync(string jobId, List<UsageRecord> records, List<ParsedRow> refused,
        long stored, long duplicates, long rejected, CancellationToken ct)
    {
        var added = await store.StoreAsync(jobId, records, ct);
        await store.RejectAsync(jobId, refused, ct);
        var result = (stored + added, duplicates + records.Count - added, rejected + refused.Count);
        records.Clear();
        refused.Clear();
        return result;
    }

    private static (string, string)[] Facts(MediationJob job) =>
    [
        ("jobId", job.JobId), ("rowsRead", job.RowsRead.ToString()), ("stored", job.Stored.ToString()), ("rejected", job.Rejected.ToString()),
        ("duplicates", job.Duplicates.ToString()),
    ];
}
