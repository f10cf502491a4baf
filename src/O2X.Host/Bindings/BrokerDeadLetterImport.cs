using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using O2X.Actors.Messaging;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Persistence;
using O2X.Host.Hosting;
using O2X.Streams.Dsl;
using O2X.Streams.Stomp;

namespace O2X.Host.Bindings;

/// <summary>
/// Migration aid (issue 17): moves what ActiveMQ dead-lettered before O2X took over — its <c>ActiveMQ.DLQ</c>, the seed's DLQ
/// (§5.3) — into O2X's dead-letter store, so operators browse, requeue and purge those old failures with the same tools as
/// O2X's own. Each message keeps its headers (with <c>original-destination</c> and ActiveMQ's <c>dlqDeliveryFailureCause</c>) and
/// is filed under the O2X queue bound to its original destination (else under the destination's name). A message is
/// acknowledged on the broker only after it is stored; card data is withheld as everywhere else.
/// </summary>
internal sealed class BrokerDeadLetterImport(O2XSettings settings, BrokerTransports transports, DeadLetterStore store, ActorSystem system)
{
    public const string ExceptionType = "ActiveMQ.DLQ";

    /// <summary>What was imported, per O2X queue (a list: queue names are data, not field names).</summary>
    public sealed record Result(string Source, int Imported, IReadOnlyList<QueueCount> Queues);

    public sealed record QueueCount(string Queue, int Imported);

    /// <summary>Imports up to <paramref name="limit"/> messages; stops earlier once the DLQ stays empty for <paramref name="idle"/>.</summary>
    public async Task<Result> ImportAsync(string source, int limit, TimeSpan idle, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(settings.Transports.Stomp.Address))
            throw new InvalidOperationException("No ActiveMQ is configured (O2X:Transports:Stomp:Address): there is no broker DLQ to import from.");
        var queues = settings.Bindings.Where(b => b.Value.Transport == TransportKind.Stomp)
            .GroupBy(b => StompDestination.Normalize(transports.AddressOf(TransportKind.Stomp, b.Key, b.Value.Address)), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Key, StringComparer.Ordinal);
        var byQueue = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var (control, done) = StompSource.Committable(new StompSourceSettings(settings.Transports.Stomp.ToSettings(), source).WithPrefetch(Math.Min(limit, 100)))
            .SelectAsync(1, async c =>
            {
                var queue = QueueOf(c.Message, queues);
                await store.AddAsync(ToDeadLetter(queue, c.Message), forward: null, ct);
                await c.Handle.CommitAsync(ct);
                byQueue.AddOrUpdate(queue, 1, (_, n) => n + 1);
                return queue;
            })
            // Measured after the store: a slow write is not mistaken for an empty DLQ.
            .IdleTimeout(idle)
            .Take(limit)
            .ToMaterialized(Sink.Ignore<string>(), Keep.Both)
            .Run(system.Materializer());
        try
        {
            await done.WaitAsync(ct);
        }
        catch (TimeoutException) when (control.Status.Snapshot.LastError is null || !byQueue.IsEmpty)
        {
            // (The source may already be stopped here, so its state says nothing; a failed connect leaves its error.)
            // Idle: the DLQ is empty (for now). What was imported stays imported.
        }
        catch (TimeoutException)
        {
            // Never connected: that is not an empty DLQ.
            throw new StompConnectionException("Cannot reach ActiveMQ to read its DLQ: " + (control.Status.Snapshot.LastError ?? "no connection"));
        }
        finally
        {
            await control.StopAsync(TimeSpan.FromSeconds(10));
        }

        return new Result(source, byQueue.Values.Sum(), [.. byQueue.OrderBy(q => q.Key, StringComparer.Ordinal).Select(q => new QueueCount(q.Key, q.Value))]);
    }

    private static string QueueOf(StompMessage message, IReadOnlyDictionary<string, string> queues)
    {
        var original = message.Headers?.GetValueOrDefault("original-destination");
        if (original is null) return "ActiveMQ.DLQ";
        if (queues.TryGetValue(original, out var queue)) return queue;
        return original.StartsWith("/queue/", StringComparison.Ordinal) ? original["/queue/".Length..] : original;
    }

    private static DeadLetterRecord ToDeadLetter(string queue, StompMessage message)
    {
        var headers = message.Headers ?? new Dictionary<string, string>();
        // The id the binding would have given it, so that a requeued message is recognised like any other.
        var id = TransportEnvelopes.FromStomp(queue, message, int.MaxValue).MessageId;
        var at = headers.TryGetValue("timestamp", out var ms) && long.TryParse(ms, out var epoch) && epoch > 0
            ? DateTimeOffset.FromUnixTimeMilliseconds(epoch).UtcDateTime
            : DateTime.UtcNow;
        var cause = headers.GetValueOrDefault("dlqDeliveryFailureCause");
        var why = "Dead-lettered by ActiveMQ before O2X (imported from its DLQ" +
                  (headers.GetValueOrDefault("original-destination") is { } from ? $"; original destination {from}" : "") + ")" +
                  (cause is null ? "." : ": " + TextExcerpt.Of(cause, 512));
        return new DeadLetterRecord(0, queue, id, message.CorrelationId, headers, CardData.StorableBytes(message.Body.Span), 1, at, DateTime.UtcNow,
            ExceptionType, why, DeadLetterStatus.Dead, null, 0, DateTime.UtcNow);
    }
}
