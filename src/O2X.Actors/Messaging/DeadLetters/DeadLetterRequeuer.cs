using O2X.Actors.Persistence;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.DeadLetters;

internal enum RequeueResult { Requeued, NotFound, NotRequeueable, QueueUnavailable }

/// <summary>
/// Puts dead letters back on their original queue with a fresh retry budget (seed §9.1 "reprocess"). The
/// letter is claimed with a conditional update first, so a message requeued by two operators at once is
/// requeued once; if the queue does not accept it, the letter is dead again and nothing is lost. The
/// message keeps its id, so consumers that already applied it will not apply it twice.
/// </summary>
internal sealed class DeadLetterRequeuer(DeadLetterStore letters, DeliveryAttemptStore attempts, Func<string, IRequeueTarget?> targetFor)
{
    public const string RequeuedFromHeader = "x-o2x-requeued-from-dead-letter";

    public async Task<RequeueResult> RequeueAsync(long id, CancellationToken ct = default)
    {
        var letter = await letters.GetAsync(id, ct);
        if (letter is null) return RequeueResult.NotFound;
        if (targetFor(letter.Queue) is not { } target) return RequeueResult.QueueUnavailable;
        if (!await letters.TryBeginRequeueAsync(id, ct)) return RequeueResult.NotRequeueable;

        bool accepted;
        try
        {
            await attempts.ResetAsync(letter.Queue, letter.MessageId, ct);
            var headers = new Dictionary<string, string>(letter.Headers) { [RequeuedFromHeader] = id.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            var envelope = new MessageEnvelope(letter.MessageId, letter.Queue, letter.CorrelationId, headers, letter.Body, 1, DateTimeOffset.UtcNow);
            accepted = await target.RequeueAsync(envelope, ct);
        }
        catch (Exception ex)
        {
            await letters.AbortRequeueAsync(id, "requeue failed: " + ex.Message, CancellationToken.None);
            throw;
        }

        if (!accepted)
        {
            await letters.AbortRequeueAsync(id, $"queue {letter.Queue} did not accept the message", ct);
            return RequeueResult.QueueUnavailable;
        }

        await letters.CompleteRequeueAsync(id, ct);
        return RequeueResult.Requeued;
    }
}
