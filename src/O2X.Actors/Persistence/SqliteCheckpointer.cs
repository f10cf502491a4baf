using Microsoft.Data.Sqlite;

namespace O2X.Actors.Persistence;

/// <summary>
/// Moves SQLite's write-ahead log into the database file from a background connection (PASSIVE checkpoints:
/// they never block readers or writers), so the journal's commits do not pay for checkpoint I/O and the
/// WAL file stays small.
/// </summary>
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public SqliteCheckpointer(string connectionString, TimeSpan interval) => _loop = Task.Run(() => RunAsync(connectionString, interval));

    private async Task RunAsync(string connectionString, TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        while (await WaitAsync(timer))
        {
            try
            {
                await using var connection = new SqliteConnection(connectionString);
                await connection.OpenAsync(_stop.Token);
                await using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                await command.ExecuteNonQueryAsync(_stop.Token);
            }
            catch (SqliteException)
            {
                // Busy or briefly unavailable: the next tick tries again; the WAL keeps everything meanwhile.
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
