using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence.Sql;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Microsoft.Data.Sqlite;
using Npgsql;
using O2X.Actors.Accounts;
using O2X.Actors.Hosting;
using O2X.Actors.Invoicing;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;
using O2X.Actors.Usage;

namespace O2X.Bench;

/// <summary>
/// The monthly bill run over many accounts (issue "Monthly billing run"): accounts with one subscription each and 10 rated
/// usage records, their entities recovered from the journal by a fresh actor system, then one bill run over all of them —
/// beside the ceiling of the same writes done plainly (one invoice row INSERTed and 10 usage rows UPDATEd per account, 200
/// accounts per transaction, prepared statements; PostgreSQL: multi-row INSERT and UPDATE … FROM unnest). Then PDF rendering
/// of the invoices the run wrote. Managed memory and RSS are sampled every second during the run.
/// </summary>
internal static class BillingBenchmark
{
    private static readonly DateOnly February = new(2024, 2, 1);

    public static Command Command()
    {
        var store = new Option<string>("--store") { Description = "sqlite or postgres", DefaultValueFactory = _ => "sqlite" };
        var accounts = new Option<int>("--accounts") { Description = "accounts billed", DefaultValueFactory = _ => 100_000 };
        var records = new Option<int>("--records") { Description = "rated usage records per account", DefaultValueFactory = _ => 10 };
        var pdfs = new Option<int>("--pdfs") { Description = "invoices rendered as PDF after the run", DefaultValueFactory = _ => 2_000 };
        var command = new Command("billing", "A bill run over many accounts, its ceiling, and PDF rendering") { store, accounts, records, pdfs };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(store)!, parse.GetValue(accounts), parse.GetValue(records), parse.GetValue(pdfs)));
        return command;
    }

    private static async Task<int> RunAsync(string kind, int accounts, int records, int pdfs)
    {
        await using var store = await BenchStore.CreateAsync(kind, "billing");
        var persistence = store.IsSqlite
            ? new PersistenceOptions { SqlitePath = new SqliteConnectionStringBuilder(store.ConnectionString).DataSource }
            : new PersistenceOptions { ConnectionString = store.ConnectionString };
        var database = new O2XDatabase(persistence);
        var ids = Enumerable.Range(0, accounts).Select(i => $"ACC-B{i:D7}").ToList();

        // 1. The accounts, through their entities: an order for INTERNET_100 at 50.00 completed on 15 January.
        var clock = Stopwatch.StartNew();
        await using (var seeding = await AccountSystem.StartAsync(persistence))
        {
            var change = new SubscriptionChange(OrderType.New, ServiceAction.Add, "INTERNET_100", 1, new Pricing(50m, 0m, "USD"));
            var at = new DateTimeOffset(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 128 }, async (id, ct) =>
            {
                await EntityAsk.CommandAsync(seeding.Accounts, new PrepareOrder(id, id + "-p", id + "-O", true, [change], at), TimeSpan.FromSeconds(60), ct);
                await EntityAsk.CommandAsync(seeding.Accounts, new ApplyCompletedOrder(id, id + "-c", id + "-O", [change], at), TimeSpan.FromSeconds(60), ct);
            });
        }

        await InsertUsageAsync(database, ids, records);
        Console.Error.WriteLine($"seeded {accounts:N0} accounts and {accounts * (long)records:N0} rated records in {clock.Elapsed.TotalSeconds:0} s");

        // 2. The run, on a fresh actor system: every entity recovers from the journal, as after a node restart.
        var samples = new ConcurrentQueue<(double Seconds, double ManagedMiB, double RssMiB)>();
        BillRunView run;
        double seconds;
        await using (var billing = await AccountSystem.StartAsync(persistence))
        {
            var runner = new BillRunner(database, billing.Accounts, BillingTerms.Default, TimeSpan.FromSeconds(60), RatingCatalog.Default);
            using var sampling = new CancellationTokenSource();
            var resources = Resources.OfThisProcess();
            clock.Restart();
            var sampler = Task.Run(async () =>
            {
                var process = Process.GetCurrentProcess();
                while (!sampling.IsCancellationRequested)
                {
                    process.Refresh();
                    samples.Enqueue((clock.Elapsed.TotalSeconds, GC.GetTotalMemory(false) / 1048576.0, process.WorkingSet64 / 1048576.0));
                    try { await Task.Delay(1000, sampling.Token); } catch (OperationCanceledException) { }
                }
            });
            run = await runner.RunAsync("bench", February, null, "BENCH", new DateTimeOffset(2024, 3, 2, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
            seconds = clock.Elapsed.TotalSeconds;
            await sampling.CancelAsync();
            await sampler;
            Console.Error.WriteLine($"run: {JsonSerializer.Serialize(run)}; resources {Resources.Format(resources.Stop())}");
        }

        if (run.Invoiced != accounts) throw new InvalidOperationException($"invoiced {run.Invoiced} of {accounts}");
        var ceiling = store.IsSqlite ? await SqliteCeilingAsync(store.ConnectionString, accounts, records) : await PostgresCeilingAsync(store.ConnectionString, accounts, records);
        var perSecond = accounts / seconds;
        var list = samples.ToList();
        string Memory(Func<(double Seconds, double ManagedMiB, double RssMiB), double> f) =>
            $"{f(list[Math.Min(list.Count - 1, 2)]):N0} → {f(list[^1]):N0} (peak {list.Max(f):N0})";
        Console.WriteLine($"| {kind} | {accounts:N0} × {records} records | {seconds:0.0} s | {perSecond:N0} accounts/s | {Memory(s => s.ManagedMiB)} MiB managed, " +
                          $"{Memory(s => s.RssMiB)} MiB RSS | {ceiling:N0} accounts/s ({ceiling * (1 + records):N0} rows/s) | {perSecond / ceiling:0.00} |");

        // 3. PDFs of the invoices the run wrote.
        if (pdfs > 0) await RenderAsync(database, kind, pdfs);
        return 0;
    }

    private static async Task RenderAsync(O2XDatabase database, string kind, int count)
    {
        List<string> documents;
        await using (var db = await database.OpenAsync())
            documents = await db.GetTable<O2XTables.CycleInvoiceRow>().OrderBy(r => r.InvoiceNumber).Select(r => r.Document).Take(count).ToListAsync();
        var invoices = documents.Select(d => JsonSerializer.Deserialize<CycleInvoiceDocument>(d, BillRunner.Json)!.Invoice).ToList();
        InvoicePdf.Render(invoices[0]); // fonts and JIT
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        foreach (var invoice in invoices) bytes += InvoicePdf.Render(invoice).Length;
        var one = invoices.Count / clock.Elapsed.TotalSeconds;
        clock.Restart();
        Parallel.ForEach(invoices, invoice => InvoicePdf.Render(invoice));
        var all = invoices.Count / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"| {kind} | PDF rendering of {invoices.Count:N0} run invoices ({bytes / invoices.Count / 1024.0:0} KiB each) | | {one:N0} invoices/s on one thread, " +
                          $"{all:N0}/s on {Environment.ProcessorCount} | | — | — |");
    }

    /// <summary>Rated usage, written as rating writes it (status RATED, amount, units, bands): started in February.</summary>
    private static async Task InsertUsageAsync(O2XDatabase database, List<string> ids, int records)
    {
        await using var db = await database.OpenAsync();
        var now = DateTime.UtcNow;
        foreach (var chunk in ids.Chunk(2000))
        {
            var rows = chunk.SelectMany(id => Enumerable.Range(0, records).Select(r => new O2XTables.UsageRecordRow
            {
                DedupKey = $"BENCH:{id}:{r}", RecordId = $"{id}-{r}", ServiceType = "VOICE", AccountId = id, StartedAt = new DateTime(2024, 2, 2 + r, 8, 0, 0, DateTimeKind.Utc),
                Quantity = 180, Unit = "SECONDS", Vendor = "BENCH", JobId = "bench", Status = "RATED", RatedAmount = 0.15m, PlanId = "PLAN-VOICE-STD", RatedUnits = 3,
                RatedBands = "0@0.05=3", RatedAt = now, CreatedAt = now,
            }));
            await db.BulkCopyAsync(new BulkCopyOptions { BulkCopyType = BulkCopyType.MultipleRows, KeepIdentity = false }, rows);
        }
    }

    /// <summary>SQLite: per 200 accounts one transaction; a prepared INSERT of the invoice row and a prepared UPDATE per usage row.</summary>
    private static async Task<double> SqliteCeilingAsync(string connectionString, int accounts, int records)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE ceiling_invoice (account_id TEXT, period TEXT, invoice_number TEXT, document TEXT, PRIMARY KEY (account_id, period))";
            await create.ExecuteNonQueryAsync();
        }

        var document = await TypicalDocumentAsync(connection);
        var clock = Stopwatch.StartNew();
        long id = 1;
        for (var start = 0; start < accounts; start += 200)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO ceiling_invoice VALUES (@a, '2024-02', @n, @d)";
            var a = insert.Parameters.Add("@a", SqliteType.Text);
            var n = insert.Parameters.Add("@n", SqliteType.Text);
            var d = insert.Parameters.Add("@d", SqliteType.Text);
            await insert.PrepareAsync();
            await using var update = connection.CreateCommand();
            update.Transaction = transaction;
            update.CommandText = "UPDATE o2x_usage_record SET status = 'CEILING', invoice_number = @n WHERE id = @id";
            var un = update.Parameters.Add("@n", SqliteType.Text);
            var uid = update.Parameters.Add("@id", SqliteType.Integer);
            await update.PrepareAsync();
            for (var i = start; i < Math.Min(accounts, start + 200); i++)
            {
                (a.Value, n.Value, d.Value) = ($"ACC-B{i:D7}", $"INV-{i}", document);
                await insert.ExecuteNonQueryAsync();
                un.Value = $"INV-{i}";
                for (var r = 0; r < records; r++)
                {
                    uid.Value = id++;
                    await update.ExecuteNonQueryAsync();
                }
            }

            await transaction.CommitAsync();
        }

        return accounts / clock.Elapsed.TotalSeconds;
    }

    /// <summary>PostgreSQL: per 200 accounts one transaction; one multi-row INSERT of the invoices, one UPDATE … FROM unnest of the usage rows.</summary>
    private static async Task<double> PostgresCeilingAsync(string connectionString, int accounts, int records)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand(
                         "CREATE TABLE ceiling_invoice (account_id text, period text, invoice_number text, document text, PRIMARY KEY (account_id, period))", connection))
            await create.ExecuteNonQueryAsync();
        var document = await TypicalDocumentAsync(connection);
        var clock = Stopwatch.StartNew();
        long id = 1;
        for (var start = 0; start < accounts; start += 200)
        {
            var batch = Enumerable.Range(start, Math.Min(200, accounts - start)).ToArray();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var insert = new NpgsqlCommand(
                             "INSERT INTO ceiling_invoice SELECT a, '2024-02', n, @d FROM unnest(@a, @n) AS v(a, n)", connection, transaction))
            {
                insert.Parameters.AddWithValue("a", batch.Select(i => $"ACC-B{i:D7}").ToArray());
                insert.Parameters.AddWithValue("n", batch.Select(i => $"INV-{i}").ToArray());
                insert.Parameters.AddWithValue("d", document);
                await insert.ExecuteNonQueryAsync();
            }

            var usageIds = new long[batch.Length * records];
            var numbers = new string[usageIds.Length];
            for (var k = 0; k < usageIds.Length; k++)
            {
                usageIds[k] = id++;
                numbers[k] = $"INV-{batch[k / records]}";
            }

            await using (var update = new NpgsqlCommand(
                             "UPDATE o2x_usage_record r SET status = 'CEILING', invoice_number = v.n FROM unnest(@ids, @ns) AS v(id, n) WHERE r.id = v.id",
                             connection, transaction))
            {
                update.Parameters.AddWithValue("ids", usageIds);
                update.Parameters.AddWithValue("ns", numbers);
                await update.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }

        return accounts / clock.Elapsed.TotalSeconds;
    }

    private static async Task<string> TypicalDocumentAsync(System.Data.Common.DbConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT document FROM o2x_cycle_invoice LIMIT 1";
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>An actor system with the node's persistence and serializer, and a parent that routes account commands to their entities.</summary>
    private sealed class AccountSystem : IAsyncDisposable
    {
        private readonly ActorSystem _system;

        private AccountSystem(ActorSystem system, IActorRef accounts)
        {
            _system = system;
            Accounts = accounts;
        }

        public IActorRef Accounts { get; }

        public static Task<AccountSystem> StartAsync(PersistenceOptions persistence)
        {
            DatabasePreparation.Prepare(persistence);
            var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\n" + O2X.Actors.Serialization.O2XSerializer.Hocon)
                .WithFallback(SqlPersistenceConfig.Create(persistence, TimeSpan.FromMilliseconds(100)))
                .WithFallback(SqlPersistence.DefaultConfiguration);
            var system = ActorSystem.Create("billing-bench", config);
            return Task.FromResult(new AccountSystem(system, system.ActorOf(Props.Create(() => new Router()), "accounts")));
        }

        public async ValueTask DisposeAsync() => await _system.Terminate();

        /// <summary>What the shard region does for one node: an entity per account id, created on its first message.</summary>
        private sealed class Router : ReceiveActor
        {
            public Router()
            {
                Receive<IWithAccountId>(m =>
                {
                    var name = Uri.EscapeDataString(m.AccountId);
                    var child = Context.Child(name);
                    if (child.IsNobody()) child = Context.ActorOf(Props.Create(() => new AccountActor(m.AccountId, 100)), name);
                    child.Forward(m);
                });
                // The shard's part of passivation, without its buffering: nothing else talks to these entities here.
                Receive<Akka.Cluster.Sharding.Passivate>(_ => Context.Stop(Sender));
            }
        }
    }
}
