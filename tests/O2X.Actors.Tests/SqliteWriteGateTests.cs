using O2X.Actors.Persistence;
using O2X.Testing;

namespace O2X.Actors.Tests;

public sealed class SqliteWriteGateTests
{
    private static readonly TempDirectory Data = new();

    [Fact]
    public async Task Writers_of_one_database_file_take_turns_whatever_their_connection_strings_say()
    {
        var file = Data.File($"gate-{Guid.NewGuid():N}.db");
        var first = await SqliteWriteGate.EnterAsync($"Data Source={file};Pooling=True", CancellationToken.None);

        var second = SqliteWriteGate.EnterAsync($"Data Source={Path.GetRelativePath(Environment.CurrentDirectory, file)};Cache=Shared", CancellationToken.None).AsTask();
        var elsewhere = SqliteWriteGate.EnterAsync($"Data Source={Data.File($"gate-{Guid.NewGuid():N}.db")}", CancellationToken.None).AsTask();

        (await elsewhere.WaitAsync(TimeSpan.FromSeconds(10))).Dispose(); // another file: its own turn, at once
        second.IsCompleted.Should().BeFalse("the same file, named another way, waits for the writer in it");
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public async Task A_writer_that_gives_up_waiting_does_not_take_a_turn()
    {
        var connectionString = $"Data Source={Data.File($"gate-{Guid.NewGuid():N}.db")}";
        var first = await SqliteWriteGate.EnterAsync(connectionString, CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var waiting = SqliteWriteGate.EnterAsync(connectionString, cancel.Token).AsTask();
        await cancel.CancelAsync();

        await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<OperationCanceledException>();
        first.Dispose();
        (await SqliteWriteGate.EnterAsync(connectionString, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }
}
