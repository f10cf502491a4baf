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
using O2X.Actors.Persistence;
using O2X.Actors.Serialization;
using O2X.Actors.Usage;

namespace O2X.Actors.Invoicing;

internal enum BillRunStatus { Running, Completed, Failed }

/// <summary>What a bill run did, as the API and the console show it.</summary>
internal sealed record BillRunView(
    string RunId, string Period, string? AccountId, string Trigger, string Status, int Accounts, int Invoiced, int AlreadyBilled, int NothingToBill,
    int NotEnded, int Failed, decimal Amount, DateTime StartedAt, DateTime? FinishedAt, string? Error);

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
/// its own id skips the accounts it has a result for.
/// </summary>
internal sealed class BillRunner(O2XDatabase database, IActorRef accounts, BillingTerms terms, TimeSpan askTimeout, RatingCatalog catalog,
    int batchSize = BillRunner.DefaultBatchSize, TimeSpan pauseBetweenBatches = default)
{
    public const int DefaultBatchSize = 200;
    private const int Parallelism = 32;

    internal static readonly JsonSerializerOptions Json = O2XSerializer.Options;

    /// <summary>Runs (or resumes) <paramref name="runId"/>; returns its final state.</summary>
    public async Task<BillRunView> RunAsync(string runId, DateOnly month, string? accountId, string trigger, DateTimeOffset now, CancellationToken ct)
    {
        await BeginAsync(runId, month, accountId, trigger, now, ct);
        try
        {
            await RecordPendingAsync(ct);
            var all = accountId is not null ? [accountId] : await AccountIdsAsync(ct);
            var done = await DoneAccountsAsync(runId, ct);
            var todo = all.Where(a => !done.Contains(a)).ToList();
            var planDiscounts = await PlanDiscountStore.LoadAsync(database, ct);
            var plans = await UnitNamesAsync(ct);
            var batches = 0;
            foreach (var batch in todo.Chunk(batchSize))
            {
                ct.ThrowIfCancellationRequested();
                if (batches > 0 && pauseBetweenBatches > TimeSpan.Zero) await Task.Delay(pauseBetweenBatches, ct);
                await RunBatchAsync(runId, month, batch, planDiscounts, plans, now, ct);
                await CountAsync(runId, null, null, ct); // progress, for the API and the console
                batches++;
            }

            return await FinishAsync(runId, BillRunStatus.Completed, null, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            await FinishAsync(runId, BillRunStatus.Failed, ex.Message, CancellationToken.None);
            throw;
        }
    }

    private async Task RunBatchAsync(string runId, DateOnly month, string[] batch, IReadOnlyList<Discount> planDiscounts, IReadOnlyDictionary<string, string> units,
        DateTimeOffset now, CancellationToken ct)
    {
        var states = new AccountState?[batch.Length];
        await Parallel.ForAsync(0, batch.Length, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (i, token) =>
        {
            var reply = await accounts.Ask<object>(new GetBillingState(batch[i]), askTimeout, token).ConfigureAwait(false);
            states[i] = reply as AccountState;
        });

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
                        if (await StoreAsync(db, runId, bill, records, ct))
                        {
                            invoiced.Add(new CycleInvoiceDocument(bill.Invoice, bill.Charges));
                            (result.Outcome, result.InvoiceNumber, result.Amount) = ("INVOICED", bill.Invoice.InvoiceNumber, bill.Invoice.Total);
                        }
                        else
                        {
                            (result.Outcome, result.InvoiceNumber) = ("ALREADY_BILLED", bill.Invoice.InvoiceNumber);
                        }

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

            foreach (var result in results) await db.InsertOrReplaceAsync(result, token: ct);
            await transaction.CommitAsync(ct);
        }

        await RecordAsync(invoiced, ct);
    }

    /// <summary>The cycle invoice row, then its usage BILLED, in the caller's transaction; false when the account and period already have one.</summary>
    private async Task<bool> StoreAsync(DataConnection db, string runId, CycleOutcome.Invoiced invoiced, List<UsageRow> records, CancellationToken ct)
    {
        var invoice = invoiced.Invoice;
        var inserted = await db.ExecuteAsync(
            "INSERT INTO o2x_cycle_invoice (account_id, period, invoice_number, run_id, currency, total, document, issued_at) " +
            "VALUES (@a, @p, @n, @r, @c, @t, @d, @i) ON CONFLICT DO NOTHING", ct,
            new DataParameter("a", invoice.AccountId, DataType.NVarChar), new DataParameter("p", invoice.Cycle!.Period, DataType.NVarChar),
            new DataParameter("n", invoice.InvoiceNumber, DataType.NVarChar), new DataParameter("r", runId, DataType.NVarChar),
            new DataParameter("c", invoice.Currency, DataType.NVarChar), new DataParameter("t", invoice.Total, DataType.Decimal),
            new DataParameter("d", JsonSerializer.Serialize(new CycleInvoiceDocument(invoice, invoiced.Charges), Json), DataType.Text),
            new DataParameter("i", invoice.IssuedAt.UtcDateTime, DataType.DateTime2));
        if (inserted == 0) return false;
        if (records.Count == 0) return true;

        var connection = await db.OpenDbConnectionAsync(ct);
        await using var update = connection.CreateCommand();
        update.Transaction = db.Transaction;
        update.CommandText = "UPDATE o2x_usage_record SET status = 'BILLED', invoice_number = @n WHERE id = @id AND status = 'RATED'";
        var number = Add(update, "@n");
        var id = Add(update, "@id");
        // PostgreSQL prepares only parameters whose type is known.
        number.DbType = System.Data.DbType.String;
        id.DbType = System.Data.DbType.Int64;
        number.Value = invoice.InvoiceNumber;
        await update.PrepareAsync(ct);
        foreach (var record in records)
        {
            id.Value = record.Id;
            if (await update.ExecuteNonQueryAsync(ct) != 1)
                throw new InvalidOperationException($"Usage record {record.Id} changed while {invoice.InvoiceNumber} billed it; the batch is rolled back.");
        }

        return true;
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

    private async Task<IReadOnlyDictionary<string, string>> UnitNamesAsync(CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var versions = await PricePlanStore.LoadAsync(db, ct);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in versions.Select(v => v.PlanId).Concat(["PLAN-VOICE-STD", "PLAN-DATA-STD", "PLAN-SMS-STD", "PLAN-2024-NEW"]).Distinct())
        {
            var plan = catalog.Plan(id) ?? versions.Where(v => v.PlanId == id && v.Plan is not null).Select(v => v.Plan).LastOrDefault();
            if (plan is not null) names[id] = plan.UnitName;
        }

        return names;
    }

    /// <summary>Every account that ever persisted an event, in id order (from the journal: accounts exist only there).</summary>
    private async Task<List<string>> AccountIdsAsync(CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        var ids = await db.QueryToListAsync<string>(
            "SELECT DISTINCT persistence_id FROM journal WHERE persistence_id LIKE 'account-%' ORDER BY persistence_id", ct);
        return ids.Select(id => id["account-".Length..]).ToList();
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

    /// <summary>The run's counts from its account results; with a status, the run ends with it.</summary>
    private async Task CountAsync(string runId, BillRunStatus? status, string? error, CancellationToken ct)
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
        if (status is { } final)
            update = update.Set(r => r.Status, final.ToString()).Set(r => r.FinishedAt, DateTime.UtcNow).Set(r => r.Error, error);
        await update.UpdateAsync(ct);
    }

    private static DbParameter Add(DbCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
