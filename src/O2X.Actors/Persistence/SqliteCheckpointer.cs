using System.Diagnostics;
using Microsoft.Data.Sqlite;
using O2X.Actors.Persistence.Journal;

namespace O2X.Actors.Persistence;

/// <summary>
/// Moves SQLite's write-ahead log into the database file from a background connection (PASSIVE checkpoints:
/// they never block readers or writers), so the journal's commits do not pay for checkpoint I/O. Each checkpoint's time
/// and the log's size are reported to the node's metrics (<see cref="JournalObservers"/>).
/// </summary>
/// <remarks>
/// <para>
/// Copying the log is not enough to keep it small: SQLite starts writing the log from its beginning again only when a writer
/// begins its transaction after a checkpoint has copied all of it. A journal writer that commits back to back almost never
/// finds such a moment, so under steady load the log file grew without bound (650 MB in a 40,000-order benchmark), and each
/// commit's fsync then also had to extend the file (commits 1.2–1.6 instead of 0.7 ms). So once the log holds more than
/// <c>restartAfterFrames</c> and its unhurried pass copied all but a few, the checkpointer takes this process's write turn
/// (<see cref="SqliteWriteGate"/>), checkpoints what was written since (little: a few milliseconds), and gives the turn back;
/// the journal's next transaction then restarts the log. Until 2026-12-05 the outbox projection's small transactions did that by accident.
/// </para>
/// </remarks>
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    /// <summary>4,096 frames: 16 MiB of 4 KiB pages.</summary>
    public const int DefaultRestartAfterFrames = 4096;

    /// <summary>The most frames the unhurried pass may have left behind for the pass in the write turn to copy.</summary>
    private const int MaxFramesBehindForRestart = 1024;

    private readonly CancellationTokenSource _stop = new();
    private readonly string _connectionString;
    private readonly int _restartAfterFrames;
    private readonly JournalObservers? _observers;
    private readonly Task _loop;

    public SqliteCheckpointer(string connectionString, TimeSpan interval, JournalObservers? observers = null,
        int restartAfterFrames = DefaultRestartAfterFrames)
    {
        _connectionString = connectionString;
        _restartAfterFrames = restartAfterFrames;
        _observers = observers;
        _loop = Task.Run(() => RunAsync(interval));
    }

    private async Task RunAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        while (await WaitAsync(timer))
        {
            try
            {
                await using var connection = new SqliteConnection(_connectionString);
                await connection.OpenAsync(_stop.Token);
                var (frames, checkpointed) = await CheckpointAsync(connection);
                // Only when little is left to copy: a reader that still needs old frames kept this pass from copying them (it
                // would keep the log from starting over anyway), and once it is gone, copying that backlog must not happen while
                // the journal writer waits for its turn.
                if (frames < _restartAfterFrames || frames - checkpointed > MaxFramesBehindForRestart) continue;
                using (await SqliteWriteGate.EnterAsync(_connectionString, _stop.Token))
                    await CheckpointAsync(connection);
            }
            catch (SqliteException)
            {
                // Busy or briefly unavailable: the next tick tries again; the WAL keeps everything meanwhile.
                _observers?.Checkpointed(new WalCheckpoint(TimeSpan.Zero, -1, -1, Failed: true));
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>A PASSIVE checkpoint: the frames in the log, and how many of them are now in the database file (-1, -1 outside WAL mode).</summary>
    private async Task<(long Frames, long Checkpointed)> CheckpointAsync(SqliteConnection connection)
    {
        var started = Stopwatch.GetTimestamp();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        await using var result = await command.ExecuteReaderAsync(_stop.Token);
        if (!await result.ReadAsync(_stop.Token)) return (-1, -1);
        // Busy (1, -1, -1): another connection was checkpointing (a commit of one that checkpoints on its own). Not a checkpoint of ours.
        var (busy, frames, checkpointed) = (result.GetInt64(0), result.GetInt64(1), result.GetInt64(2));
        _observers?.Checkpointed(new WalCheckpoint(Stopwatch.GetElapsedTime(started), frames, checkpointed, Failed: busy != 0 || frames < 0));
        return busy != 0 || frames < 0 ? (-1, -1) : (frames, checkpointed);
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
