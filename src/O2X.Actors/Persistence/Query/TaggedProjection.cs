using System.Diagnostics;
using Akka;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using O2X.Actors.Messaging;

namespace O2X.Actors.Persistence.Query;

/// <summary>
/// The loop of a projection over tagged events, as an Akka.Streams source: from the stored offset, read a batch, let
/// <c>store</c> write what it derives together with the new offset (one transaction), go on from there; after an empty
/// or a partial batch it waits <c>pollInterval</c> first (a full batch goes on at once: there is more to read). A batch of
/// untagged events only is stored at most every <see cref="UntaggedStoreInterval"/>. One
/// element per batch (what <c>store</c> returns, e.g. rows written). A failure fails the
/// source, so its owner restarts it (with backoff) from the offset stored last.
/// </summary>
internal static class TaggedProjection
{
    /// <summary>How long a projection that passes only untagged events keeps its new offset in memory before it stores it.</summary>
    internal static readonly TimeSpan UntaggedStoreInterval = TimeSpan.FromSeconds(10);

    /// <summary>The offset stored last (and when), and how far the projection has read past it (untagged events only).</summary>
    private readonly record struct Position(long Stored, long Read, long StoredAt);

    /// <summary>
    /// Runs <paramref name="batches"/> until the returned kill switch is shut down: restarted with backoff (1 s doubling to
    /// 10 s, 20 % jitter) whenever it fails; <paramref name="reader"/> is disposed once it ends.
    /// </summary>
    public static UniqueKillSwitch Run(Func<Source<int, NotUsed>> batches, TaggedEventReader reader, IMaterializer materializer)
    {
        var (killSwitch, done) = RestartSource.WithBackoff(batches, RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 0.2))
            .ViaMaterialized(KillSwitches.Single<int>(), Keep.Right)
            .ToMaterialized(Sink.Ignore<int>(), Keep.Both)
            .Run(materializer);
        done.ContinueWith(_ => reader.DisposeAsync().AsTask(), TaskScheduler.Default);
        return killSwitch;
    }

    public static Source<int, NotUsed> Batches(
        string name,
        string tag,
        TaggedEventReader reader,
        Func<CancellationToken, Task<long>> readOffset,
        Func<long, TaggedBatch, CancellationToken, Task<int>> store,
        int batchSize,
        TimeSpan pollInterval,
        ILoggingAdapter log,
        CancellationToken ct) =>
        Source.FromTask(readOffset(ct))
            .ConcatMany(start =>
            {
                log.Info("Projection {0} resumes after journal ordering {1}", name, start);
                return Source.UnfoldAsync<Position, int>(new Position(start, start, Stopwatch.GetTimestamp()), async position =>
                {
                    try
                    {
                        var batch = await reader.ReadAsync(tag, position.Read, batchSize, ct);
                        if (batch.SafeOffset == position.Read)
                        {
                            await Task.Delay(pollInterval, ct);
                            return Option<(Position, int)>.Create((position, 0));
                        }

                        if (batch.Events.Count == 0 && Stopwatch.GetElapsedTime(position.StoredAt) < UntaggedStoreInterval)
                        {
                            // Only untagged events passed (all of them, while the journal writes the outbox itself): go on from
                            // there, but store the offset only now and then. A transaction per poll for nothing took SQLite's
                            // write turn from the journal writer four times a second, tens of milliseconds each under load;
                            // after a restart the projection skips the same untagged events again, along the tags' key.
                            await Task.Delay(pollInterval, ct);
                            return Option<(Position, int)>.Create((position with { Read = batch.SafeOffset }, 0));
                        }

                        // From the offset stored last: what was passed in memory since then held nothing tagged.
                        var written = await store(position.Stored, batch, ct);
                        // A batch that is not full has caught up with the journal: wait as after an empty read, so that under
                        // load each transaction carries a full batch rather than the few events written since the last one.
                        if (batch.Events.Count < batchSize) await Task.Delay(pollInterval, ct);
                        return Option<(Position, int)>.Create((new Position(batch.SafeOffset, batch.SafeOffset, Stopwatch.GetTimestamp()), written));
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        log.Warning("Projection {0} failed ({1}: {2}); resuming from the stored offset after a backoff", name, ex.GetType().Name,
                            TextExcerpt.Of(ex.Message, 256));
                        throw;
                    }
                });
            });
}
