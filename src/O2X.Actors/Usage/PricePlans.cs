using System.Text.Json;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using O2X.Actors.Persistence;

namespace O2X.Actors.Usage;

/// <summary>The dated plan versions price-sync delivered (linq2db). Writing the same version again changes nothing.</summary>
internal sealed class PricePlanStore(O2XDatabase database)
{
    public O2XDatabase Database => database;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task UpsertAsync(string syncId, IReadOnlyList<PricePlanVersion> versions, CancellationToken ct)
    {
        await using var db = await database.OpenAsync(ct);
        await using var transaction = await db.BeginTransactionAsync(ct);
        foreach (var v in versions)
        {
            await db.InsertOrReplaceAsync(new O2XTables.PricePlanVersionRow
            {
                PlanId = v.PlanId,
                EffectiveFrom = v.EffectiveFrom,
                Retired = v.Retired,
                ServiceType = v.Plan?.ServiceType ?? "",
                UnitName = v.Plan?.UnitName ?? "",
                UnitSize = v.Plan?.UnitSize ?? 0,
                IncludedUnits = v.Plan?.IncludedUnits ?? 0,
                Bands = JsonSerializer.Serialize(v.Plan?.Bands ?? [], Json),
                SyncId = syncId,
            }, token: ct);
        }

        await transaction.CommitAsync(ct);
    }

    public static async Task<IReadOnlyList<PricePlanVersion>> LoadAsync(DataConnection db, CancellationToken ct) =>
        (await db.GetTable<O2XTables.PricePlanVersionRow>().ToListAsync(ct)).Select(r => new PricePlanVersion(r.PlanId,
            DateTime.SpecifyKind(r.EffectiveFrom, DateTimeKind.Utc), r.Retired,
            r.Retired ? null : new PricePlan(r.PlanId, r.ServiceType, r.UnitName, r.UnitSize, r.IncludedUnits,
                JsonSerializer.Deserialize<List<PriceBand>>(r.Bands, Json) ?? []))).ToList();

    public async Task<IReadOnlyList<PricePlanVersion>> AllAsync(CancellationToken ct = default)
    {
        await using var db = await database.OpenAsync(ct);
        return await LoadAsync(db, ct);
    }
}
