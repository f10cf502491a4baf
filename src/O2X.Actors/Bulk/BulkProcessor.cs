using System.Globalization;
using Akka.Actor;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;

namespace O2X.Actors.Bulk;

/// <summary>
/// The handler of the BULK queue (seed §4.3, §6.5): each payload item is sent to its account entity as one
/// <see cref="ApplyBulkOperation"/> and succeeds or fails on its own (the account's refusal is the item's reason);
/// a message's outcomes are recorded together in one transaction (one write per message, not per item), so the job's
/// stats move message by message while it runs. Items of different accounts run side by side, an account's items in order. A delivery of the same message again skips the items already recorded, and the
/// account recognises an item it applied (key <c>{job}#{index}</c>) — also one applied just before a crash, whose outcome
/// was not recorded yet: nothing happens twice. A timeout or an unavailable journal fails the message as a whole
/// (Retryable) after recording what was done; its retry does only what is left.
/// </summary>
internal sealed class BulkProcessor(BulkStore store, IActorRef accounts, TimeSpan askTimeout, int accountsInParallel = 8) : IMessageHandler
{
    public const string HandlerName = "BulkProcessor";

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        var message = BulkMessages.Parse(envelope.Body);
        var job = message.Job;
        return new HandlingPlan("bulk", async ct =>
        {
            var (registration, existing) = await store.RegisterAsync(job, ct);
            if (registration == BulkStore.Registration.Conflict)
                throw new NonRetryableException(ErrorCodes.BulkJobConflict,
                    $"Bulk job {job.JobId} exists as {BulkApiNames.WireName(existing!.ApiName)} of {existing.TotalCount} items; this message says " +
                    $"{BulkApiNames.WireName(job.Api)} of {job.TotalCount}. Use a new job id.");

            var recorded = await store.RecordedAsync(job.JobId, message.Offset, message.Offset + message.Items.Count, ct);
            var pending = message.Items.Where(i => !recorded.Contains(i.Index)).ToList();
            if (pending.Count == 0) return HandlingOutcome.DuplicateWith(("jobId", job.JobId), ("items", message.Items.Count.ToString(CultureInfo.InvariantCulture)));

            var results = new System.Collections.Concurrent.ConcurrentBag<BulkItemResult>();
            try
            {
                await Parallel.ForEachAsync(pending.GroupBy(i => i.AccountId ?? ""),
                    new ParallelOptions { MaxDegreeOfParallelism = accountsInParallel, CancellationToken = ct },
                    async (group, token) =>
                    {
                        foreach (var item in group) results.Add(await ApplyAsync(job, item, token));
                    });
            }
            finally
            {
                // What was done is recorded even when the rest failed (Retryable): the retry does only what is left.
                await store.RecordAsync(job.JobId, results, CancellationToken.None);
            }

            var succeeded = results.Count(r => r.Status == BulkItemStatus.Succeeded);
            var failed = results.Count - succeeded;
            return HandlingOutcome.ProcessedWith(("jobId", job.JobId), ("succeeded", succeeded.ToString(CultureInfo.InvariantCulture)),
                ("failed", failed.ToString(CultureInfo.InvariantCulture)));
        });
    }

    private async Task<BulkItemResult> ApplyAsync(BulkJobDefinition job, BulkItem item, CancellationToken ct)
    {
        if (item.Operation is not { } operation)
            return new BulkItemResult(item.Index, item.AccountId, BulkItemStatus.Failed, item.ErrorCode, item.Error, DateTime.UtcNow);
        try
        {
            await EntityAsk.CommandAsync(accounts, new ApplyBulkOperation(item.AccountId!, $"{job.JobId}#{item.Index}", job.JobId, operation, DateTimeOffset.UtcNow),
                askTimeout, ct);
            return new BulkItemResult(item.Index, item.AccountId, BulkItemStatus.Succeeded, null, null, DateTime.UtcNow);
        }
        catch (NonRetryableException refused)
        {
            return new BulkItemResult(item.Index, item.AccountId, BulkItemStatus.Failed, refused.ErrorCode, refused.Message, DateTime.UtcNow);
        }
    }
}
