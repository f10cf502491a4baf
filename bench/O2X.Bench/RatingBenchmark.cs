using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Actors.Usage;
using O2X.Actors.Messaging;
using O2X.Testing;

namespace O2X.Bench;

/// <summary>
/// Rating throughput, twice: the pure rating function on one thread, and a USAGE batch end to end on SQLite (load
/// UNRATED, rate, write RATED, update accumulators) beside raw prepared UPDATEs of the same rows in one transaction.
/// </summary>
internal static class RatingBenchmark
{
    public static Command Command()
    {
        var records = new Option<int>("--records") { Description = "usage records rated end to end", DefaultValueFactory = _ => 100_000 };
        var accounts = new Option<int>("--accounts") { Description = "accounts they belong to", DefaultValueFactory = _ => 500 };
        var command = new Command("rating", "Rating function and USAGE batch throughput") { records, accounts };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(records), parse.GetValue(accounts)));
        return command;
    }

    private static async Task<int> RunAsync(int records, int accounts)
    {
        // 1. The pure function: 20 million ratings on one thread, used-before and durations varying.
        var plan = RatingCatalog.Default.Plan("PLAN-VOICE-STD")!;
        const int calls = 20_000_000;
        var sum = 0m;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) sum += Rating.Rate(plan, i % 2000, i % 3600).Amount;
        var pure = calls / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"| pure rating function (one thread) | {calls:N0} | {pure:N0} records/s | — (checksum {sum}) | — |");

        // 2. End to end on SQLite: mediate, then rate every record of the accounts in one USAGE batch.
        await using var store = await BenchStore.CreateAsync("sqlite", "rating");
        var persistence = new PersistenceOptions { SqlitePath = new SqliteConnectionStringBuilder(store.ConnectionString).DataSource };
        var database = new O2XDatabase(persistence);
        using var files = new TempDirectory();
        var path = files.File("cdr.csv");
        CdrFiles.WriteMcmVoice(path, 1, records, accounts: accounts);
        var message = $"{{\"service_type\":\"VOICE\",\"file_name\":\"cdr.csv\",\"file_location\":\"{path}\",\"vendor\":\"MCM\",\"vendor_format\":\"MCM_VOICE_V2\"}}";
        await new MediationProcessor(new UsageStore(database), UsageParsers.Default, new UsageFileReaders(new O2X.Actors.Hosting.UsageFileOptions { Roots = [Path.GetTempPath()] }))
            .Plan(new MessageEnvelope("job", "MEDIATION", null, MessageEnvelope.NoHeaders, Encoding.UTF8.GetBytes(message), 1, DateTimeOffset.UtcNow))
            .Execute(CancellationToken.None);

        var accountIds = Enumerable.Range(0, accounts).Select(a => $"ACC-{a:D4}").ToList();
        clock.Restart();
        var summary = await new UsageRater(database, RatingCatalog.Default).RateAsync([], accountIds, "VOICE", CancellationToken.None);
        var endToEnd = summary.Rated / clock.Elapsed.TotalSeconds;
        if (summary.Rated != records) throw new InvalidOperationException($"rated {summary.Rated} of {records}");

        var baseline = await RawUpdatesAsync(store.ConnectionString, records);
        Console.WriteLine($"| USAGE batch end to end (SQLite: load UNRATED, rate, write RATED, accumulators) | {records:N0} | {endToEnd:N0} records/s | raw prepared UPDATE of the same rows {baseline:N0} rows/s | {endToEnd / baseline:0.00} |");
        return 0;
    }

    /// <summary>The write part alone: every record set RATED with an amount, prepared UPDATE by id, one transaction.</summary>
    private static async Task<double> RawUpdatesAsync(string connectionString, int records)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var update = connection.CreateCommand();
        update.Transaction = transaction;
        update.CommandText = "UPDATE o2x_usage_record SET status = 'BASELINE', rated_amount = @a, rated_units = @u, plan_id = 'P' WHERE id = @id";
        var a = update.Parameters.Add("@a", SqliteType.Real);
        var u = update.Parameters.Add("@u", SqliteType.Integer);
        var id = update.Parameters.Add("@id", SqliteType.Integer);
        await update.PrepareAsync();
        var clock = Stopwatch.StartNew();
        for (long i = 1; i <= records; i++)
        {
            a.Value = 0.05;
            u.Value = 3;
            id.Value = i;
            await update.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return records / clock.Elapsed.TotalSeconds;
    }
}
