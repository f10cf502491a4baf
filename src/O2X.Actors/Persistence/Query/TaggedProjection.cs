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
/// or a partial batch it waits <c>pollInterval</c> first (a full batch goes on at once: there is more to read). One
/// element per batch (what <c>store</c> returns, e.g. rows written). A failure fails the
/// source, so its owner restarts it (with backoff) from the offset stored last.
/// </summary>
internal static class TaggedProjection
{
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
                return Source.UnfoldAsync<long, int>(start, async offset =>
                {
                    try
                    {
                        var batch = await reader.ReadAsync(tag, offset, batchSize, ct);
                        if (batch.SafeOffset == offset)
                        {
                            await Task.Delay(pollInterval, ct);
                            return Option<(long, int)>.Create((offset, 0));
                        }

                        var written = await store(offset, batch, ct);
                        // A batch that is not full has caught up with the journal: wait as after an empty read, so that under
                        // load each transaction carries a full batch rather than the few events written since the last one.
                        if (batch.Events.Count < batchSize) await Task.Delay(pollInterval, ct);
                        return Option<(long, int)>.Create((batch.SafeOffset, written));
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
