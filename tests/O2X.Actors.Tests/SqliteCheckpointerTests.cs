using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using O2X.Actors.Persistence;
using O2X.Actors.Persistence.Journal;
using O2X.Testing;

namespace O2X.Actors.Tests;

public sealed class SqliteCheckpointerTests
{
    private static readonly TempDirectory Data = new();

    /// <summary>
    /// A writer that commits back to back (as the journal's does under load, taking its write turn each time) never finds the log
    /// fully checkpointed when it begins, so SQLite would go on appending to it; the checkpointer pauses it once the log is long
    /// and the log starts over. Seen in what the checkpoints report: the frames in the log fall after passing the threshold — three
    /// times, so that a pause of the writer that let a checkpoint catch up by chance cannot pass it alone.
    /// </summary>
    [Fact]
    public async Task Under_back_to_back_commits_the_log_starts_over_once_it_is_longer_than_the_threshold()
    {
        var connectionString = $"Data Source={Data.File($"checkpoint-{Guid.NewGuid():N}.db")};Pooling=False";
        await using var writer = new SqliteConnection(connectionString);
        await writer.OpenAsync();
        await using (var setup = writer.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = FULL; CREATE TABLE t (x BLOB);";
            await setup.ExecuteNonQueryAsync();
        }

        var observers = new JournalObservers();
        var seen = new Checkpoints();
        observers.Attach(seen);
        await using var checkpointer = new SqliteCheckpointer(connectionString, TimeSpan.FromMilliseconds(20), observers, restartAfterFrames: 64);
        await using var insert = writer.CreateCommand();
        insert.CommandText = "INSERT INTO t (x) VALUES (randomblob(3000))";

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (seen.RestartsAfter(64) < 3)
        {
            timeout.Token.ThrowIfCancellationRequested();
            using (await SqliteWriteGate.EnterAsync(connectionString, timeout.Token))
            {
                await using var transaction = (SqliteTransaction)await writer.BeginTransactionAsync(timeout.Token);
                insert.Transaction = transaction;
                for (var row = 0; row < 4; row++) await insert.ExecuteNonQueryAsync(timeout.Token);
                await transaction.CommitAsync(timeout.Token);
            }
        }

        seen.Frames.Should().Contain(f => f >= 64, "the log grew past the threshold first");
        seen.Failed.Should().Be(0);
    }

    private sealed class Checkpoints : IJournalObserver
    {
        private int _failed;

        public ConcurrentQueue<long> Frames { get; } = new();

        public int Failed => Volatile.Read(ref _failed);

        /// <summary>How often a checkpoint reported fewer frames in the log than the one before, which had passed <paramref name="threshold"/>.</summary>
        public int RestartsAfter(int threshold)
        {
            var (restarts, previous) = (0, 0L);
            foreach (var frames in Frames)
            {
                if (previous >= threshold && frames < previous) restarts++;
                previous = frames;
            }

            return restarts;
        }

        public void GroupCommitted(in GroupCommit commit) => throw new InvalidOperationException("no journal writer here");

        public void Checkpointed(in WalCheckpoint checkpoint)
        {
            if (checkpoint.Failed) Interlocked.Increment(ref _failed);
            else Frames.Enqueue(checkpoint.WalFrames);
        }
    }
}
