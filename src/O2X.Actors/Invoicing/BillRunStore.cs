using System.Globalization;
using System.Text.Json;
using LinqToDB;
using LinqToDB.Async;
using O2X.Actors.Accounts;
using O2X.Actors.Persistence;

namespace O2X.Actors.Invoicing;

/// <summary>Reads bill runs, their per-account results and stored cycle invoices.</summary>
internal static class BillRunStore
{
    public static async Task<BillRunView?> GetAsync(O2XDatabase database, string runId, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var row = await db.GetTable<O2XTables.BillRunRow>().FirstOrDefaultAsync(r => r.RunId == runId, ct);
        return row is null ? null : ToView(row);
    }

    /// <summary>The most recently started runs first.</summary>
    public static async Task<IReadOnlyList<BillRunView>> RecentAsync(O2XDatabase database, int limit, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return (await db.GetTable<O2XTables.BillRunRow>().OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.RunId).Take(limit).ToListAsync(ct))
            .Select(ToView).ToList();
    }

    /// <summary>Runs queued or still RUNNING when a node stopped: resumed by the coordinator, oldest first.</summary>
    public static async Task<IReadOnlyList<BillRunView>> UnfinishedAsync(O2XDatabase database, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return (await db.GetTable<O2XTables.BillRunRow>()
                .Where(r => r.Status == nameof(BillRunStatus.Running) || r.Status == nameof(BillRunStatus.Queued)).OrderBy(r => r.StartedAt).ToListAsync(ct))
            .Select(ToView).ToList();
    }

    /// <summary>A run accepted but not started yet: visible (QUEUED) from the moment its id is given out.</summary>
    public static async Task QueueAsync(O2XDatabase database, string runId, string period, string? accountId, string trigger, DateTime at, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        await db.InsertAsync(new O2XTables.BillRunRow
        {
            RunId = runId, Period = period, AccountId = accountId, Trigger = trigger, Status = nameof(BillRunStatus.Queued), StartedAt = at,
        }, token: ct);
    }

    /// <summary>The latest period a run over all accounts finished for with every cycle ended and nothing failed.</summary>
    public static async Task<string?> LastClosedPeriodAsync(O2XDatabase database, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await db.GetTable<O2XTables.BillRunRow>()
            .Where(r => r.AccountId == null && r.Status == nameof(BillRunStatus.Completed) && r.NotEnded == 0 && r.Failed == 0)
            .OrderByDescending(r => r.Period).Select(r => r.Period).FirstOrDefaultAsync(ct);
    }

    public static async Task<IReadOnlyList<BillRunAccountView>> AccountsAsync(O2XDatabase database, string runId, string? outcome, string after, int limit,
        CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var query = db.GetTable<O2XTables.BillRunAccountRow>().Where(r => r.RunId == runId && r.AccountId.CompareTo(after) > 0);
        if (outcome is not null) query = query.Where(r => r.Outcome == outcome);
        return await query.OrderBy(r => r.AccountId).Take(limit)
            .Select(r => new BillRunAccountView(r.AccountId, r.Outcome, r.InvoiceNumber, r.Amount, r.ErrorCode, r.Reason)).ToListAsync(ct);
    }

    /// <summary>How many cycle invoices exist for a period (tests and the console).</summary>
    public static async Task<int> CountInvoicesAsync(O2XDatabase database, string period, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await db.GetTable<O2XTables.CycleInvoiceRow>().CountAsync(r => r.Period == period, ct);
    }

    public static async Task<CycleInvoiceDocument?> InvoiceAsync(O2XDatabase database, string invoiceNumber, CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        var document = await db.GetTable<O2XTables.CycleInvoiceRow>().Where(r => r.InvoiceNumber == invoiceNumber).Select(r => r.Document)
            .FirstOrDefaultAsync(ct);
        return document is null ? null : JsonSerializer.Deserialize<CycleInvoiceDocument>(document, BillRunner.Json);
    }

    private static BillRunView ToView(O2XTables.BillRunRow r) => new(r.RunId, r.Period, r.AccountId, r.Trigger, r.Status.ToUpperInvariant(), r.Accounts,
        r.Invoiced, r.AlreadyBilled, r.NothingToBill, r.NotEnded, r.Failed, r.Amount, DateTime.SpecifyKind(r.StartedAt, DateTimeKind.Utc),
        r.FinishedAt is { } f ? DateTime.SpecifyKind(f, DateTimeKind.Utc) : null, r.Error, r.UnknownAccounts, r.UnknownUsage);
}

/// <summary>Discounts on rating plans, as price-sync delivered them.</summary>
internal static class PlanDiscountStore
{
    public static async Task UpsertAsync(O2XDatabase database, string syncId, IReadOnlyList<(Discount Discount, bool Removed)> discounts, CancellationToken ct)
    {
        if (discounts.Count == 0) return;
        await using var db = await database.OpenAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        foreach (var (d, removed) in discounts)
        {
            await db.InsertOrReplaceAsync(new O2XTables.PlanDiscountRow
            {
                PlanId = d.PlanId!, DiscountId = d.DiscountId, Kind = d.Kind.ToString(), Value = d.Value, Currency = d.Currency,
                EffectiveFrom = d.EffectiveFrom.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
                EffectiveTo = d.EffectiveTo?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), Description = d.Description, Removed = removed, SyncId = syncId,
            }, token: ct);
        }

        await transaction.CommitAsync(ct);
    }

    public static async Task<IReadOnlyList<Discount>> LoadAsync(O2XDatabase database, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        return (await db.GetTable<O2XTables.PlanDiscountRow>().Where(r => !r.Removed).ToListAsync(ct)).Select(r => new Discount(r.DiscountId,
            Enum.Parse<DiscountKind>(r.Kind, ignoreCase: true), r.Value, r.Currency, DateOnly.FromDateTime(r.EffectiveFrom),
            r.EffectiveTo is { } to ? DateOnly.FromDateTime(to) : null, r.Description, r.PlanId)).ToList();
    }
}
