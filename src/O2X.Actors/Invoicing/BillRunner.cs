using System.Collections.Immutable;
using System.Data.Common;
using System.Text.Json;
using Akka.Actor;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using O2X.Actors.Accounts;
using O2X.Actors.Hosting;
using O2X.Actors.Messaging;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Persistence;
using O2X.Actors.Serialization;
using O2X.Actors.Usage;

namespace O2X.Actors.Invoicing;

internal enum BillRunStatus { Queued, Running, Completed, Failed }

/// <summary>
/// What a bill run did, as the API and the console show it. <see cref="UnknownAccounts"/> / <see cref="UnknownUsage"/> (runs over
/// all accounts): RATED usage records billed to no one because no account of that id exists — left RATED, for an operator.
/// </summary>
internal sealed record BillRunView(
    string RunId, string Period, string? AccountId, string Trigger, string Status, int Accounts, int Invoiced, int AlreadyBilled, int NothingToBill,
    int NotEnded, int Failed, decimal Amount, DateTime StartedAt, DateTime? FinishedAt, string? Error, int? UnknownAccounts = null, int? UnknownUsage = null);

/// <summary>One account's result in a run.</summary>
internal sealed record BillRunAccountView(string AccountId, string Outcome, string? InvoiceNumber, decimal? Amount, string? ErrorCode, string? Reason);

/// <summary>A cycle invoice as stored beside the usage it billed: the invoice and the charges it posts.</summary>
internal sealed record CycleInvoiceDocument(Invoice Invoice, ImmutableArray<Charge> Charges);

/// <summary>
/// Runs the monthly bill (seed §4.2 phase 3): for every account (or one), closes its cycle of the period with
/// <see cref="CycleBilling"/>, then in <b>one transaction per batch of accounts</b> stores each invoice (unique per account and
/// period) and marks exactly the usage it billed BILLED, so neither a crash nor a rerun bills a record twice or loses one.
/// Only then is each invoice recorded on its account entity (which numbers it, counts it in the balance and serves it); an
/// invoice stored but not yet recorded there — the node died in between — is recorded by the next run. A run resumed under
/// its own id skips the accounts it has a result for; that is also how a run that lost the database carries on
/// (<see cref="Retry"/>).
/// </summary>
internal sealed class BillRunner(O2XDatabase database, IActorRef accounts, BillingTerms terms, TimeSpan askTimeout, RatingCatalog catalog,
    int batchSize = BillRunner.DefaultBatchSize, TimeSpan pauseBetweenBatches = default)
{
    public const int DefaultBatchSize = 200;
    private const int Parallelism = 32;

    internal static readonly JsonSerializerOptions Json = O2XSerializer.Options;

    /// <summary>
    /// How a run that lost the database (or an account entity that could not answer, its journal being away) tries again: it
    /// resumes where it stopped — the accounts with a result are skipped — after 1, 2, 4 … s (±15%), at most a minute apart,
    /// 10 times (about six minutes in all); then the run is FAILED. A scheduled run is queued again at the next schedule check.
    /// </summary>
    public static readonly RetryPolicy Retry = new()
    {
        InitialDelay = TimeSpan.FromSeconds(1), Multiplier = 2, MaxDelay = TimeSpan.FromMinutes(1), MaxRedeliveries = 10,
    };

    /// <summary>A run about to try again after <see cref="Cause"/>: its <see cref="Retry"/>th retry, after <see cref="Delay"/>.</summary>
    internal sealed record Retrying(string RunId, int Retry, int MaxRetries, TimeSpan Delay, Exception Cause);

    /// <summary>
    /// Runs (or resumes) <paramref name="runId"/>; returns its final state. A lost dependency (<see cref="IsLostDependency"/>)
    /// does not fail the run: it is resumed after <see cref="Retry"/>'s delay, each time told to <paramref name="retrying"/>.
    /// Any other failure, or the last retry's, ends it FAILED.
    /// </summary>
    public async Task<BillRunView> RunAsync(string runId, DateOnly month, string? accountId, string trigger, DateTimeOffset now, CancellationToken ct,
        Action<Retrying>? retrying = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var begun = false;
            try
            {
                await BeginAsync(runId, month, accountId, trigger, now, ct);
                begun = true;
                return await BillAsync(runId, month, accountId, now, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && attempt <= Retry.MaxRedeliveries && IsLostDependency(ex))
            {
                var delay = Retry.Delay(attempt, Random.Shared);
                retrying?.Invoke(new Retrying(runId, attempt, Retry.MaxRedeliveries, delay, ex));
                await Task.Delay(delay, ct);
            }
            catch (Exception ex) when (begun && !ct.IsCancellationRequested)
            {
                await FinishAsync(runId, BillRunStatus.Failed, ex.Message, CancellationToken.None);
                throw;
            }
        }
    }

    /// <summary>
    /// Whether a run's failure says a dependency was away rather than that the run cannot bill: the database (any
    /// <see cref="DbException"/>: a restart, a failover, a connection the server ended), a timeout, or an entity that did not
    /// answer in time.
    /// </summary>
    internal static bool IsLostDependency(Exception exception) =>
        exception is AskTimeoutException || BindingCircuitBreaker.IsDependencyFailure(exception);

    private async Task<BillRunView> BillAsync(string runId, DateOnly month, string? accountId, DateTimeOffset now, CancellationToken ct)
    {
        Task<AccountState?[]>? next = null;
        var recording = Task.CompletedTask;
        try
        {
            await RecordPendingAsync(ct);
            var all = accountId is not null ? [accountId] : await AccountIdsAsync(ct);
            var done = await DoneAccountsAsync(runId, ct);
            var todo = all.Where(a => !done.Contains(a)).ToList();
            var planDiscounts = await PlanDiscountStore.LoadAsync(database, ct);
            var plans = await UnitNamesAsync(ct);
            // A pipeline of three: the next batch's accounts are read from their entities while this batch is written, and the
            // previous batch's invoices are recorded on their entities meanwhile (at most one batch behind; a crash leaves them
            // to RecordPendingAsync).
            var batches = todo.Chunk(batchSize).ToList();
            for (var i = 0; i < batches.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                if (i > 0 && pauseBetweenBatches > TimeSpan.Zero) await Task.Delay(pauseBetweenBatches, ct);
                var states = await (next ?? StatesAsync(batches[i], ct));
                next = i + 1 < batches.Count ? StatesAsync(batches[i + 1], ct) : null;
                var invoiced = await WriteBatchAsync(runId, month, batches[i], states, planDiscounts, plans, now, ct);
                await recording;
                var billed = invoiced.Select(d => d.Invoice.AccountId).ToHashSet();
                foreach (var state in states)
                    if (state is not null && !billed.Contains(state.AccountId)) accounts.Tell(new ReleaseAfterBilling(state.AccountId));
                recording = RecordAsync(invoiced, ct);
            }

            await recording;
            if (accountId is null) await ReportUnknownAccountsAsync(runId, all, ct);
            return await FinishAsync(runId, BillRunStatus.Completed, null, ct);
        }
        catch
        {
            // Nothing of this attempt may still run when the next one starts: the reads ahead and the recording behind end
            // first (their own failures are this one's, or the next attempt's RecordPendingAsync records what they did not).
            if (next is not null) await ((Task)next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await recording.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
    }

    /// <summary>Each account's state from its entity (null: no such account).</summary>
    private async Task<AccountState?[]> StatesAsync(string[] batch, CancellationToken ct)
    {
        var states = new AccountState?[batch.Length];
        await Parallel.ForAsync(0, batch.Length, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (i, token) =>
        {
            var reply = await accounts.Ask<object>(new GetBillingState(batch[i]), askTimeout, token).ConfigureAwait(false);
            states[i] = reply as AccountState;
        }).ConfigureAwait(false);
        return states;
    }

    /// <summary>Closes the batch's cycles and writes them — invoices, BILLED usage, results, the run's counts — in one transaction.</summary>
    private async Task<List<CycleInvoiceDocument>> WriteBatchAsync(string runId, DateOnly month, string[] batch, AccountState?[] states,
        IReadOnlyList<Discount> planDiscounts, IReadOnlyDictionary<string, string> units, DateTimeOffset now, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var results = new List<O2XTables.BillRunAccountRow>(batch.Length);
        var invoiced = new List<CycleInvoiceDocument>();
        await using (var db = await database.OpenAsync(ct))
        {
            await using var transaction = await db.BeginTransactionAsync(ct);
            var periods = new Dictionary<string, BillingPeriod>();
            for (var i = 0; i < batch.Length; i++)
                if (states[i] is { } s) periods[s.AccountId] = BillingPeriod.Of(month, s.CycleDay);
            var usage = await UsageAsync(db, periods, ct);
            var pending = new List<(CycleOutcome.Invoiced Bill, List<UsageRow> Records, O2XTables.BillRunAccountRow Result)>();
            for (var i = 0; i < batch.Length; i++)
            {
                var result = new O2XTables.BillRunAccountRow { RunId = runId, AccountId = batch[i] };
                results.Add(result);
                if (states[i] is not { } state)
                {
                    (result.Outcome, result.ErrorCode, result.Reason) = ("FAILED", ErrorCodes.AccountNotFound, $"Account {batch[i]} does not exist.");
                    continue;
                }

                var period = periods[state.AccountId];
                if (!period.HasEnded(today))
                {
                    (result.Outcome, result.Reason) = ("NOT_ENDED", $"The cycle {period.Start:yyyy-MM-dd} to {period.End.AddDays(-1):yyyy-MM-dd} has not ended.");
                    continue;
                }

                var records = usage.GetValueOrDefault(state.AccountId) ?? [];
                var outcome = CycleBilling.Close(state, period, Aggregate(records, units), planDiscounts, terms, now);
                switch (outcome)
                {
                    case CycleOutcome.Invoiced bill:
                        pending.Add((bill, records, result));
                        break;
                    case CycleOutcome.AlreadyBilled a:
                        (result.Outcome, result.InvoiceNumber) = ("ALREADY_BILLED", a.InvoiceNumber);
                        break;
                    case CycleOutcome.NothingToBill:
                        result.Outcome = "NOTHING_TO_BILL";
                        break;
                    case CycleOutcome.Refused r:
                        (result.Outcome, result.ErrorCode, result.Reason) = ("FAILED", r.ErrorCode, r.Reason);
                        break;
                }
            }

            var stored = database.Provider == PersistenceProvider.PostgreSql
                ? await StoreBatchAsync(db, runId, pending, ct)
                : await StoreEachAsync(db, runId, pending, ct);
            foreach (var (bill, _, result) in pending)
            {
                if (stored.Contains(bill.Invoice.InvoiceNumber))
                {
                    invoiced.Add(new CycleInvoiceDocument(bill.Invoice, bill.Charges));
                    (result.Outcome, result.InvoiceNumber, result.Amount) = ("INVOICED", bill.Invoice.InvoiceNumber, bill.Invoice.Total);
                }
                else
                {
                    (result.Outcome, result.InvoiceNumber) = ("ALREADY_BILLED", bill.Invoice.InvoiceNumber); // another run stored it first
                }
            }

            await WriteResultsAsync(db, runId, results, ct);
            await transaction.CommitAsync(ct);
        }

        return invoiced;
    }

    /// <summary>The accounts' results, and the run's counts moved on by them (progress for the API and the console), in the caller's transaction.</summary>
    private static async Task WriteResultsAsync(DataConnection db, string runId, List<O2XTables.BillRunAccountRow> results, CancellationToken ct)
    {
        var connection = await db.OpenDbConnectionAsync(ct);
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = db.Transaction;
            insert.CommandText = "INSERT INTO o2x_bill_run_account (run_id, account_id, outcome, invoice_number, amount, error_code, reason) " +
                                 "VALUES (@r, @a, @o, @n, @m, @c, @x)";
            var p = new[] { "@r", "@a", "@o", "@n", "@m", "@c", "@x" }.Select(name => insert.AddParameter(name)).ToArray();
            foreach (var parameter in p) parameter.DbType = System.Data.DbType.String;
            p[4].DbType = System.Data.DbType.Decimal;
            await insert.PrepareAsync(ct);
            foreach (var r in results)
            {
                (p[0].Value, p[1].Value, p[2].Value) = (runId, r.AccountId, r.Outcome);
                (p[3].Value, p[4].Value, p[5].Value, p[6].Value) = ((object?)r.InvoiceNumber ?? DBNull.Value, (object?)r.Amount ?? DBNull.Value,
                    (object?)r.ErrorCode ?? DBNull.Value, (object?)r.Reason ?? DBNull.Value);
                await insert.ExecuteNonQueryAsync(ct);
            }
        }

        var (all, invoiced, already, nothing, notEnded, failed, amount) = (results.Count, Count("INVOICED"), Count("ALREADY_BILLED"),
            Count("NOTHING_TO_BILL"), Count("NOT_ENDED"), Count("FAILED"), results.Sum(x => x.Amount ?? 0m));
        await db.GetTable<O2XTables.BillRunRow>().Where(r => r.RunId == runId)
            .Set(r => r.Accounts, r => r.Accounts + all)
            .Set(r => r.Invoiced, r => r.Invoiced + invoiced)
            .Set(r => r.AlreadyBilled, r => r.AlreadyBilled + already)
            .Set(r => r.NothingToBill, r => r.NothingToBill + nothing)
            .Set(r => r.NotEnded, r => r.NotEnded + notEnded)
            .Set(r => r.Failed, r => r.Failed + failed)
            .Set(r => r.Amount, r => r.Amount + amount)
            .UpdateAsync(ct);
        int Count(string outcome) => results.Count(r => r.Outcome == outcome);
    }

    /// <summary>SQLite: a prepared INSERT and UPDATE per row, in the caller's transaction; returns the invoices stored.</summary>
    private static async Task<HashSet<string>> StoreEachAsync(DataConnection db, string runId,
        List<(CycleOutcome.Invoiced Bill, List<UsageRow> Records, O2XTables.BillRunAccountRow Result)> pending, CancellationToken ct)
    {
        var stored = new HashSet<string>(StringComparer.Ordinal);
        if (pending.Count == 0) return stored;
        await using var statements = await Statements.PrepareAsync(db, ct);
        foreach (var (bill, records, _) in pending)
            if (await statements.StoreAsync(runId, bill, records, ct)) stored.Add(bill.Invoice.InvoiceNumber);
        return stored;
    }

    /// <summary>
    /// PostgreSQL: the batch's invoices in one multi-row INSERT (those an account and period already have are skipped and not
    /// returned), then their usage BILLED in one <c>UPDATE … FROM unnest</c> that must touch every record still RATED.
    /// </summary>
    private static async Task<HashSet<string>> StoreBatchAsync(DataConnection db, string runId,
        List<(CycleOutcome.Invoiced Bill, List<UsageRow> Records, O2XTables.BillRunAccountRow Result)> pending, CancellationToken ct)
    {
        var stored = new HashSet<string>(StringComparer.Ordinal);
        if (pending.Count == 0) return stored;
        var connection = await db.OpenDbConnectionAsync(ct);
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = db.Transaction;
            insert.CommandText = "INSERT INTO o2x_cycle_invoice (account_id, period, invoice_number, run_id, currency, total, document, issued_at) " +
                                 "SELECT a, p, n, @r, c, t, d, i FROM unnest(@a, @p, @n, @c, @t, @d, @i) AS v(a, p, n, c, t, d, i) " +
                                 "ON CONFLICT DO NOTHING RETURNING invoice_number";
            insert.AddParameter("@r").Value = runId;
            insert.AddParameter("@a").Value = pending.Select(x => x.Bill.Invoice.AccountId).ToArray();
            insert.AddParameter("@p").Value = pending.Select(x => x.Bill.Invoice.Cycle!.Period).ToArray();
            insert.AddParameter("@n").Value = pending.Select(x => x.Bill.Invoice.InvoiceNumber).ToArray();
            insert.AddParameter("@c").Value = pending.Select(x => x.Bill.Invoice.Currency).ToArray();
            insert.AddParameter("@t").Value = pending.Select(x => x.Bill.Invoice.Total).ToArray();
            insert.AddParameter("@d").Value = pending.Select(x => JsonSerializer.Serialize(new CycleInvoiceDocument(x.Bill.Invoice, x.Bill.Charges), Json)).ToArray();
            insert.AddParameter("@i").Value = pending.Select(x => x.Bill.Invoice.IssuedAt.UtcDateTime).ToArray();
            await using var reader = await insert.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) stored.Add(reader.GetString(0));
        }

        var billed = pending.Where(x => stored.Contains(x.Bill.Invoice.InvoiceNumber))
            .SelectMany(x => x.Records.Select(r => (r.Id, x.Bill.Invoice.InvoiceNumber))).ToList();
        if (billed.Count == 0) return stored;
        await using var update = connection.CreateCommand();
        update.Transaction = db.Transaction;
        update.CommandText = "UPDATE o2x_usage_record r SET status = 'BILLED', invoice_number = v.n FROM unnest(@ids, @ns) AS v(id, n) " +
                             "WHERE r.id = v.id AND r.status = 'RATED'";
        update.AddParameter("@ids").Value = billed.Select(b => b.Id).ToArray();
        update.AddParameter("@ns").Value = billed.Select(b => b.InvoiceNumber).ToArray();
        var updated = await update.ExecuteNonQueryAsync(ct);
        if (updated != billed.Count)
            throw new InvalidOperationException($"{billed.Count - updated} usage records changed while the batch billed them; the batch is rolled back.");
        return stored;
    }

    /// <summary>
    /// The batch's prepared statements: the cycle invoice row (ignored when the account and period have one) and a usage record
    /// marked BILLED (only if still RATED). PostgreSQL prepares only parameters whose type is known.
    /// </summary>
    private sealed class Statements : IAsyncDisposable
    {
        private readonly DbCommand _insert;
        private readonly DbCommand _update;
        private readonly DbParameter[] _i;
        private readonly DbParameter _number;
        private readonly DbParameter _id;

        private Statements(DbCommand insert, DbCommand update)
        {
            (_insert, _update) = (insert, update);
            _i = new[] { "@a", "@p", "@n", "@r", "@c", "@t", "@d", "@i" }.Select(name => insert.AddParameter(name)).ToArray();
            foreach (var p in _i) p.DbType = System.Data.DbType.String;
            _i[5].DbType = System.Data.DbType.Decimal;
            _i[7].DbType = System.Data.DbType.DateTime;
            (_number, _id) = (update.AddParameter("@n"), update.AddParameter("@id"));
            _number.DbType = System.Data.DbType.String;
            _id.DbType = System.Data.DbType.Int64;
        }

        public static async Task<Statements> PrepareAsync(DataConnection db, CancellationToken ct)
        {
            var connection = await db.OpenDbConnectionAsync(ct);
            var insert = connection.CreateCommand();
            insert.Transaction = db.Transaction;
            insert.CommandText = "INSERT INTO o2x_cycle_invoice (account_id, period, invoice_number, run_id, currency, total, document, issued_at) " +
                                 "VALUES (@a, @p, @n, @r, @c, @t, @d, @i) ON CONFLICT DO NOTHING";
            var update = connection.CreateCommand();
            update.Transaction = db.Transaction;
            update.CommandText = "UPDATE o2x_usage_record SET status = 'BILLED', invoice_number = @n WHERE id = @id AND status = 'RATED'";
            var statements = new Statements(insert, update);
            await insert.PrepareAsync(ct);
            await update.PrepareAsync(ct);
            return statements;
        }

        /// <summary>The invoice row, then its usage BILLED; false when the account and period already have an invoice.</summary>
        public async Task<bool> StoreAsync(string runId, CycleOutcome.Invoiced invoiced, List<UsageRow> records, CancellationToken ct)
        {
            var invoice = invoiced.Invoice;
            (_i[0].Value, _i[1].Value, _i[2].Value, _i[3].Value, _i[4].Value) = (invoice.AccountId, invoice.Cycle!.Period, invoice.InvoiceNumber, runId, invoice.Currency);
            (_i[5].Value, _i[6].Value, _i[7].Value) = (invoice.Total, JsonSerializer.Serialize(new CycleInvoiceDocument(invoice, invoiced.Charges), Json),
                invoice.IssuedAt.UtcDateTime);
            if (await _insert.ExecuteNonQueryAsync(ct) == 0) return false;
            _number.Value = invoice.InvoiceNumber;
            foreach (var record in records)
            {
                _id.Value = record.Id;
                if (await _update.ExecuteNonQueryAsync(ct) != 1)
                    throw new InvalidOperationException($"Usage record {record.Id} changed while {invoice.InvoiceNumber} billed it; the batch is rolled back.");
            }

            return true;
        }

        public async ValueTask DisposeAsync()
        {
            await _insert.DisposeAsync();
            await _update.DisposeAsync();
        }
    }

    /// <summary>Tells each account about its new invoice; marks the stored invoice recorded once the account has it.</summary>
    private async Task RecordAsync(IReadOnlyList<CycleInvoiceDocument> documents, CancellationToken ct)
    {
        if (documents.Count == 0) return;
        var recorded = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(documents, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (d, token) =>
        {
            await EntityAsk.CommandAsync(accounts, new RecordCycleInvoice(d.Invoice.AccountId, d.Invoice, d.Charges, d.Invoice.IssuedAt), askTimeout, token)
                .ConfigureAwait(false);
            accounts.Tell(new ReleaseAfterBilling(d.Invoice.AccountId));
            recorded.Add(d.Invoice.InvoiceNumber);
        });
        var numbers = recorded.ToList();
        await using var db = await database.OpenAsync(ct);
        var at = DateTime.UtcNow;
        foreach (var chunk in numbers.Chunk(500))
            await db.GetTable<O2XTables.CycleInvoiceRow>().Where(r => chunk.Contains(r.InvoiceNumber)).Set(r => r.RecordedAt, at).UpdateAsync(ct);
    }

    /// <summary>Stored invoices their account does not have yet (the node stopped in between): recorded now.</summary>
    public async Task<int> RecordPendingAsync(CancellationToken ct)
    {
        var total = 0;
        while (true)
        {
            List<string> documents;
            await using (var db = await database.OpenAsync(ct))
                documents = await db.GetTable<O2XTables.CycleInvoiceRow>().Where(r => r.RecordedAt == null).Select(r => r.Document).Take(1000).ToListAsync(ct);
            if (documents.Count == 0) return total;
            await RecordAsync(documents.Select(d => JsonSerializer.Deserialize<CycleInvoiceDocument>(d, Json)!).ToList(), ct);
            total += documents.Count;
        }
    }

    private sealed record UsageRow(long Id, string AccountId, string ServiceType, string? PlanId, long Units, decimal Amount, string? Bands, DateTime StartedAt);

    /// <summary>Each account's RATED usage that started before its cycle ended (later usage waits for its own cycle).</summary>
    private async Task<Dictionary<string, List<UsageRow>>> UsageAsync(DataConnection db, Dictionary<string, BillingPeriod> periods, CancellationToken ct)
    {
        var byAccount = new Dictionary<string, List<UsageRow>>();
        if (periods.Count == 0) return byAccount;
        var latestEnd = periods.Values.Max(p => p.End).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var lockRows = database.Provider == PersistenceProvider.PostgreSql ? " FOR UPDATE" : "";
        foreach (var chunk in periods.Keys.Chunk(500))
        {
            var names = string.Join(",", chunk.Select((_, i) => "@a" + i));
            var parameters = chunk.Select((a, i) => new DataParameter("a" + i, a, DataType.NVarChar))
                .Append(new DataParameter("end", latestEnd, DataType.DateTime2)).ToArray();
            var rows = await db.QueryToListAsync<UsageRow>(
                "SELECT id AS Id, account_id AS AccountId, service_type AS ServiceType, plan_id AS PlanId, rated_units AS Units, " +
                "rated_amount AS Amount, rated_bands AS Bands, started_at AS StartedAt FROM o2x_usage_record " +
                $"WHERE status = 'RATED' AND account_id IN ({names}) AND started_at < @end ORDER BY id{lockRows}", parameters, ct);
            foreach (var row in rows)
            {
                var end = periods[row.AccountId].End.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
                if (DateTime.SpecifyKind(row.StartedAt, DateTimeKind.Utc) >= end) continue;
                if (!byAccount.TryGetValue(row.AccountId, out var list)) byAccount[row.AccountId] = list = [];
                list.Add(row);
            }
        }

        return byAccount;
    }

    /// <summary>Usage per service, plan and band: units and amount summed over the records.</summary>
    private static List<UsageCharge> Aggregate(List<UsageRow> records, IReadOnlyDictionary<string, string> units)
    {
        var sums = new Dictionary<(string Service, string Plan, long? From, decimal? Rate), (long Units, decimal Amount, long Records)>();
        var bands = new List<(long? From, decimal Rate, long Units)>();
        foreach (var r in records)
        {
            var plan = r.PlanId ?? "";
            if (Rating.ParseBands(r.Bands, bands))
            {
                foreach (var (from, rate, n) in bands)
                {
                    var key = (r.ServiceType, plan, from, from is null ? (decimal?)null : rate);
                    var s = sums.GetValueOrDefault(key);
                    sums[key] = (s.Units + n, s.Amount + n * rate, s.Records + 1);
                }
            }
            else
            {
                // Rated before bands were recorded (or nothing chargeable): the record's whole amount.
                var key = (r.ServiceType, plan, (long?)0, (decimal?)null);
                var s = sums.GetValueOrDefault(key);
                sums[key] = (s.Units + r.Units, s.Amount + r.Amount, s.Records + 1);
            }
        }

        return sums.Select(kv => new UsageCharge(kv.Key.Service, kv.Key.Plan, units.GetValueOrDefault(kv.Key.Plan, "UNIT"), kv.Key.From, kv.Key.Rate,
            kv.Value.Units, kv.Value.Amount, kv.Value.Records)).ToList();
    }

    /// <summary>Each plan's unit name (for invoice lines): the catalog's plans, then the latest of those only price-sync delivered.</summary>
    private async Task<IReadOnlyDictionary<string, string>> UnitNamesAsync(CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var names = catalog.Plans.ToDictionary(p => p.Id, p => p.UnitName, StringComparer.Ordinal);
        foreach (var version in (await PricePlanStore.LoadAsync(db, ct)).Where(v => v.Plan is not null && catalog.Plan(v.PlanId) is null)
                     .OrderBy(v => v.EffectiveFrom))
            names[version.PlanId] = version.Plan!.UnitName;
        return names;
    }

    /// <summary>
    /// RATED usage whose account id no account has (mediation takes any id, and rating does not need the account): no run can
    /// bill it, so a run over all accounts counts it for the operator instead of letting it wait unseen.
    /// </summary>
    private async Task ReportUnknownAccountsAsync(string runId, IReadOnlyList<string> known, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var rated = await db.GetTable<O2XTables.UsageRecordRow>().Where(r => r.Status == "RATED").GroupBy(r => r.AccountId)
            .Select(g => new { AccountId = g.Key, Records = g.Count() }).ToListAsync(ct);
        var accounts = known.ToHashSet(StringComparer.Ordinal);
        var unknown = rated.Where(r => !accounts.Contains(r.AccountId)).ToList();
        await db.GetTable<O2XTables.BillRunRow>().Where(r => r.RunId == runId)
            .Set(r => r.UnknownAccounts, unknown.Count).Set(r => r.UnknownUsage, unknown.Sum(u => u.Records)).UpdateAsync(ct);
    }

    /// <summary>
    /// Every account that ever persisted an event, in id order (from the journal: accounts exist only there); none on a fresh
    /// database, whose journal tables do not exist yet (the schedule's first run on a new node).
    /// </summary>
    private async Task<List<string>> AccountIdsAsync(CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        try
        {
            var ids = await db.QueryToListAsync<string>(
                "SELECT DISTINCT persistence_id FROM journal WHERE persistence_id LIKE 'account-%' ORDER BY persistence_id", ct);
            return ids.Select(id => id["account-".Length..]).ToList();
        }
        catch (Exception ex) when (Persistence.JournalTables.AreMissing(ex))
        {
            return [];
        }
    }

    private async Task<HashSet<string>> DoneAccountsAsync(string runId, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        return (await db.GetTable<O2XTables.BillRunAccountRow>().Where(r => r.RunId == runId).Select(r => r.AccountId).ToListAsync(ct)).ToHashSet();
    }

    private async Task BeginAsync(string runId, DateOnly month, string? accountId, string trigger, DateTimeOffset now, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var existing = await db.GetTable<O2XTables.BillRunRow>().FirstOrDefaultAsync(r => r.RunId == runId, ct);
        if (existing is null)
        {
            await db.InsertAsync(new O2XTables.BillRunRow
            {
                RunId = runId, Period = BillingPeriod.LabelOf(month), AccountId = accountId, Trigger = trigger, Status = BillRunStatus.Running.ToString(),
                StartedAt = now.UtcDateTime,
            }, token: ct);
            return;
        }

        if (existing.Period != BillingPeriod.LabelOf(month) || existing.AccountId != accountId)
            throw new NonRetryableException(ErrorCodes.InvalidField, $"Run {runId} exists for period {existing.Period}{(existing.AccountId is { } a ? " and account " + a : "")}.");
        await db.GetTable<O2XTables.BillRunRow>().Where(r => r.RunId == runId).Set(r => r.Status, BillRunStatus.Running.ToString())
            .Set(r => r.FinishedAt, (DateTime?)null).Set(r => r.Error, (string?)null).UpdateAsync(ct);
    }

    private async Task<BillRunView> FinishAsync(string runId, BillRunStatus status, string? error, CancellationToken ct)
    {
        await CountAsync(runId, status, error, ct);
        return (await BillRunStore.GetAsync(database, runId, ct))!;
    }

    /// <summary>The run's counts recounted from its account results, and its end.</summary>
    private async Task CountAsync(string runId, BillRunStatus status, string? error, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var counts = await db.GetTable<O2XTables.BillRunAccountRow>().Where(r => r.RunId == runId).GroupBy(r => r.Outcome)
            .Select(g => new { Outcome = g.Key, Count = g.Count(), Amount = g.Sum(r => r.Amount ?? 0m) }).ToListAsync(ct);
        int Count(string outcome) => counts.Where(c => c.Outcome == outcome).Sum(c => c.Count);
        var update = db.GetTable<O2XTables.BillRunRow>().Where(r => r.RunId == runId)
            .Set(r => r.Accounts, counts.Sum(c => c.Count))
            .Set(r => r.Invoiced, Count("INVOICED"))
            .Set(r => r.AlreadyBilled, Count("ALREADY_BILLED"))
            .Set(r => r.NothingToBill, Count("NOTHING_TO_BILL"))
            .Set(r => r.NotEnded, Count("NOT_ENDED"))
            .Set(r => r.Failed, Count("FAILED"))
            .Set(r => r.Amount, counts.Where(c => c.Outcome == "INVOICED").Sum(c => c.Amount));
        await update.Set(r => r.Status, status.ToString()).Set(r => r.FinishedAt, DateTime.UtcNow).Set(r => r.Error, error).UpdateAsync(ct);
    }
}
