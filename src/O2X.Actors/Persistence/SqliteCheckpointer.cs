using System.Diagnostics;
using Microsoft.Data.Sqlite;
using O2X.Actors.Persistence.Journal;

namespace O2X.Actors.Persistence;

/// <summary>
/// Moves SQLite's write-ahead log into the database file from a background connection (PASSIVE checkpoints:
/// they never block readers or writers), so the journal's commits do not pay for checkpoint I/O and the
/// WAL file stays small. Each checkpoint's time and the log's size are reported to the node's metrics
/// (<see cref="JournalObservers"/>).
/// </summary>
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly JournalObservers? _observers;
    private readonly Task _loop;

    public SqliteCheckpointer(string connectionString, TimeSpan interval, JournalObservers? observers = null)
    {
        _observers = observers;
        _loop = Task.Run(() => RunAsync(connectionString, interval));
    }

    private async Task RunAsync(string connectionString, TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        while (await WaitAsync(timer))
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await using var connection = new SqliteConnection(connectionString);
                await connection.OpenAsync(_stop.Token);
                await using var command = connection.CreateCommand();
                // One row: busy (0 or 1), frames in the log, frames copied into the database file (-1, -1 outside WAL mode).
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                await using var result = await command.ExecuteReaderAsync(_stop.Token);
                if (await result.ReadAsync(_stop.Token))
                    _observers?.Current?.Checkpointed(new WalCheckpoint(Stopwatch.GetElapsedTime(started), result.GetInt64(1), result.GetInt64(2), Failed: false));
            }
            catch (SqliteException)
            {
                // Busy or briefly unavailable: the next tick tries again; the WAL keeps everything meanwhile.
                _observers?.Current?.Checkpointed(new WalCheckpoint(Stopwatch.GetElapsedTime(started), -1, -1, Failed: true));
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
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
