using System.CommandLine;
using System.Data.Common;
using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using O2X.Actors.Hosting;
using O2X.Actors.Persistence;
using O2X.Actors.Usage;
using O2X.Actors.Messaging;
using O2X.Testing;

namespace O2X.Bench;

/// <summary>
/// A generated MCM_VOICE_V2 file mediated by <see cref="MediationProcessor"/> (read, parse, validate, dedupe, store
/// UNRATED in batches of 1,000), beside a raw batched INSERT of the same rows into a same-shaped table of the same
/// database. With <c>--memory</c>: the process's peak working set while mediating (no baseline).
/// </summary>
internal static class MediationBenchmark
{
    public static Command Command()
    {
        var store = new Option<string>("--store") { Description = "sqlite or postgres", DefaultValueFactory = _ => "sqlite" };
        store.AcceptOnlyFromAmong("sqlite", "postgres");
        var rows = new Option<int>("--rows") { Description = "CDRs in the file", DefaultValueFactory = _ => 150_000 };
        var memory = new Option<bool>("--memory") { Description = "Report peak process memory instead of the baseline" };
        var command = new Command("mediation", "CDR file mediation throughput (and peak memory) beside raw batched INSERTs") { store, rows, memory };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(store)!, parse.GetValue(rows), parse.GetValue(memory)));
        return command;
    }

    private static async Task<int> RunAsync(string kind, int rows, bool memory)
    {
        using var files = new TempDirectory();
        var path = files.File("cdr.csv");
        CdrFiles.WriteMcmVoice(path, 1, rows, accounts: 10_000);
        var bytes = new FileInfo(path).Length;

        double? baseline = null;
        if (!memory)
        {
            await using var baselineStore = await BenchStore.CreateAsync(kind, "medbase");
            baseline = await RawInsertAsync(baselineStore, path);
        }

        await using var benchStore = await BenchStore.CreateAsync(kind, "mediation");
        var persistence = benchStore.IsSqlite
            ? new PersistenceOptions { SqlitePath = new SqliteConnectionStringBuilder(benchStore.ConnectionString).DataSource }
            : new PersistenceOptions { ConnectionString = benchStore.ConnectionString };
        var processor = new MediationProcessor(new UsageStore(new O2XDatabase(persistence)), UsageParsers.Default, new UsageFileReaders(new O2X.Actors.Hosting.UsageFileOptions { Roots = [Path.GetTempPath()] }));
        var message = $"{{\"service_type\":\"VOICE\",\"file_name\":\"cdr.csv\",\"tenant_name\":\"bench\",\"file_location\":\"{path}\",\"vendor\":\"MCM\",\"vendor_format\":\"MCM_VOICE_V2\"}}";
        var envelope = new MessageEnvelope("bench-job", "MEDIATION", null, MessageEnvelope.NoHeaders, Encoding.UTF8.GetBytes(message), 1, DateTimeOffset.UtcNow);

        var clock = Stopwatch.StartNew();
        var outcome = await processor.Plan(envelope).Execute(CancellationToken.None);
        var elapsed = clock.Elapsed;
        if (outcome is not HandlingOutcome.Processed || outcome.Facts["stored"] != rows.ToString())
            throw new InvalidOperationException($"Mediation did not store every row: {outcome}");
        var rate = rows / elapsed.TotalSeconds;
        if (memory)
        {
            using var self = Process.GetCurrentProcess();
            Console.WriteLine($"| {kind} | {rows:N0} | {bytes / 1048576.0:N0} MiB | {elapsed.TotalSeconds:0.00} s | {rate:N0} | peak working set {self.PeakWorkingSet64 / 1048576.0:N0} MiB |");
        }
        else
        {
            Console.WriteLine($"| {kind} | {rows:N0} | {bytes / 1048576.0:N0} MiB | {elapsed.TotalSeconds:0.00} s | {rate:N0} | {baseline:N0} | {rate / baseline:0.00} |");
        }

        return 0;
    }

    /// <summary>The same rows, already parsed, with plain INSERTs, 1,000 per transaction, into a same-shaped table (same unique index).</summary>
    private static async Task<double> RawInsertAsync(BenchStore store, string path)
    {
        var records = UsageParsers.Default.For("MCM_VOICE_V2")!.Parse(new StreamReader(path), "MCM").Select(r => r.Record!).ToList();
        await using DbConnection connection = store.IsSqlite ? new SqliteConnection(store.ConnectionString) : new NpgsqlConnection(store.ConnectionString);
        await connection.OpenAsync();
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = (store.IsSqlite
                                     ? "CREATE TABLE usage_baseline (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                                     : "CREATE TABLE usage_baseline (id BIGSERIAL PRIMARY KEY, ") +
                                 "dedup_key VARCHAR(300) NOT NULL, record_id VARCHAR(128) NOT NULL, service_type VARCHAR(16) NOT NULL, " +
                                 "account_id VARCHAR(128) NOT NULL, subscriber VARCHAR(64), counterparty VARCHAR(64), started_at TIMESTAMP NOT NULL, " +
                                 "quantity BIGINT NOT NULL, unit VARCHAR(16) NOT NULL, location VARCHAR(64), vendor VARCHAR(64) NOT NULL, " +
                                 "job_id VARCHAR(256) NOT NULL, status VARCHAR(16) NOT NULL, created_at TIMESTAMP NOT NULL);" +
                                 "CREATE UNIQUE INDEX ux_usage_baseline ON usage_baseline (dedup_key);";
            await create.ExecuteNonQueryAsync();
        }

        var clock = Stopwatch.StartNew();
        var now = DateTime.UtcNow;
        const string columns = "dedup_key, record_id, service_type, account_id, subscriber, counterparty, started_at, quantity, unit, location, vendor, job_id, status, created_at";
        for (var start = 0; start < records.Count; start += UsageStore.BatchSize)
        {
            var batch = records.Skip(start).Take(UsageStore.BatchSize).ToList();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            // The fastest plain way on each database: SQLite, a prepared single-row INSERT per record; PostgreSQL, one multi-row INSERT.
            var perRow = store.IsSqlite ? 1 : batch.Count;
            var sql = new StringBuilder($"INSERT INTO usage_baseline ({columns}) VALUES ");
            for (var i = 0; i < perRow; i++)
                sql.Append(i > 0 ? "," : "").Append($"(@a{i},@b{i},@c{i},@d{i},@e{i},@f{i},@g{i},@h{i},@i{i},@j{i},@k{i},@l{i},@m{i},@n{i})");
            insert.CommandText = sql.ToString();
            for (var i = 0; i < perRow * 14; i++)
            {
                var parameter = insert.CreateParameter();
                parameter.ParameterName = $"{(char)('a' + i % 14)}{i / 14}";
                insert.Parameters.Add(parameter);
            }

            if (store.IsSqlite) await insert.PrepareAsync();
            for (var offset = 0; offset < batch.Count; offset += perRow)
            {
                for (var i = 0; i < perRow; i++)
                {
                    var r = batch[offset + i];
                    object?[] values = [r.DedupKey, r.RecordId, r.ServiceType, r.AccountId, r.Subscriber, r.Counterparty, r.StartedAt, r.Quantity, r.Unit,
                        r.Location, r.Vendor, "baseline", "UNRATED", now];
                    for (var c = 0; c < 14; c++) insert.Parameters[i * 14 + c].Value = values[c] ?? DBNull.Value;
                }

                await insert.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }

        return records.Count / clock.Elapsed.TotalSeconds;
    }
}
