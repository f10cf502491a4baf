using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Event;
using LinqToDB;
using LinqToDB.Async;
using O2X.Actors.Persistence;
using O2X.Actors.Messaging;

namespace O2X.Actors.Usage;

/// <summary>Registry key of the rating trigger singleton.</summary>
internal sealed class UsageRatingTriggerSingleton;

/// <summary>
/// Seed §4.2 step 8, batch-process's hourly trigger, as a cluster singleton: every interval it finds the UNRATED usage,
/// grouped by account, and puts USAGE batches of at most <c>batchSize</c> record ids (an account's records stay in one
/// batch unless it alone has more) on the USAGE queue. Records still UNRATED at the next run are listed again; the
/// USAGE handler rates only what is UNRATED, so nothing is rated twice.
/// </summary>
internal sealed class UsageRatingTrigger : ReceiveActor, IWithTimers
{
    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Done(int Batches, int Records);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeSpan _interval;

    public UsageRatingTrigger(O2XDatabase database, Func<MessageEnvelope, Task<bool>> enqueue, TimeSpan interval, int batchSize)
    {
        Receive<Tick>(_ =>
        {
            BecomeStacked(Running);
            RunAsync(database, enqueue, batchSize).PipeTo(Self);
        });
        _interval = interval;

        void Running()
        {
            Receive<Tick>(_ => { }); // the previous run is still going
            Receive<Done>(d =>
            {
                if (d.Batches > 0) _log.Info("Rating trigger queued {0} USAGE batches for {1} UNRATED records", d.Batches, d.Records);
                UnbecomeStacked();
            });
            Receive<Status.Failure>(f =>
            {
                _log.Warning("Rating trigger failed ({0}); trying again at the next interval", f.Cause.Message);
                UnbecomeStacked();
            });
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // Timers are given to the actor after its constructor ran.
    protected override void PreStart() => Timers.StartPeriodicTimer("trigger", Tick.Instance, _interval);

    public static Props Props(O2XDatabase database, Func<MessageEnvelope, Task<bool>> enqueue, TimeSpan interval, int batchSize) =>
        Hosting.FactoryProps.Of(() => new UsageRatingTrigger(database, enqueue, interval, batchSize));

    private static async Task<Done> RunAsync(O2XDatabase database, Func<MessageEnvelope, Task<bool>> enqueue, int batchSize)
    {
        List<(long Id, string AccountId)> unrated;
        await using (var db = await database.OpenAsync())
        {
            unrated = (await db.GetTable<O2XTables.UsageRecordRow>().Where(r => r.Status == "UNRATED")
                    .OrderBy(r => r.AccountId).ThenBy(r => r.Id).Select(r => new { r.Id, r.AccountId }).Take(1_000_000).ToListAsync())
                .Select(r => (r.Id, r.AccountId)).ToList();
        }

        var now = DateTimeOffset.UtcNow;
        var batches = 0;
        foreach (var batch in Batches(unrated, batchSize))
        {
            batches++;
            var batchId = $"USAGE-BATCH-{now:yyyyMMddHHmmss}-{batches:000}";
            var body = new JsonObject
            {
                ["batch_id"] = batchId,
                ["usage_record_ids"] = new JsonArray(batch.Select(r => (JsonNode)UsageRater.IdOf(r.Id)).ToArray()),
                ["rating_date"] = now.ToString("yyyy-MM-dd"),
                ["account_ids"] = new JsonArray(batch.Select(r => r.AccountId).Distinct().Select(a => (JsonNode)a).ToArray()),
                ["priority"] = "NORMAL",
                ["initiated_by"] = "o2x-rating-trigger",
                ["submission_timestamp"] = now,
            };
            var envelope = new MessageEnvelope(batchId, "USAGE", batchId, MessageEnvelope.NoHeaders,
                System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()), 1, now);
            if (!await enqueue(envelope)) throw new InvalidOperationException("The USAGE queue did not take a batch (full or stopping).");
        }

        return new Done(batches, unrated.Count);
    }

    /// <summary>Consecutive accounts' records up to <paramref name="size"/> ids; a bigger account is split.</summary>
    public static IEnumerable<List<(long Id, string AccountId)>> Batches(IReadOnlyList<(long Id, string AccountId)> records, int size)
    {
        var batch = new List<(long, string)>();
        for (var i = 0; i < records.Count;)
        {
            var end = i;
            while (end < records.Count && records[end].AccountId == records[i].AccountId) end++;
            var account = end - i;
            if (batch.Count > 0 && batch.Count + Math.Min(account, size) > size)
            {
                yield return batch;
                batch = [];
            }

            for (var j = i; j < end; j++)
            {
                batch.Add(records[j]);
                if (batch.Count == size)
                {
                    yield return batch;
                    batch = [];
                }
            }

            i = end;
        }

        if (batch.Count > 0) yield return batch;
    }
}
