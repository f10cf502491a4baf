using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Invoicing;
using O2X.Actors.Messaging;
using O2X.Actors.Persistence;
using O2X.Host.Hosting;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Host.Apis;

/// <summary>
/// The monthly bill run (administrative): <c>POST /api/billing/runs</c> <c>{"period": "2024-02", "account_id"?}</c> starts a run
/// (202 with its id and status URL; runs go one at a time on the cluster's coordinator), <c>GET /api/billing/runs</c> lists recent
/// runs, <c>GET /api/billing/runs/{id}</c> gives a run's progress and counts, <c>GET /api/billing/runs/{id}/accounts?outcome=&amp;after=&amp;limit=</c>
/// each account's result. A run bills each account's cycle of the period once, whoever starts it how often.
/// </summary>
internal static class BillingApi
{
    public const int MaxRequestBytes = 4096;

    public sealed record Started(string RunId, string Period, string? AccountId, string StatusUrl);

    public sealed record RunList(IReadOnlyList<BillRunView> Items);

    public sealed record AccountPage(string RunId, IReadOnlyList<BillRunAccountView> Items, string? NextAfter);

    public static IEndpointRouteBuilder MapBillingApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/billing").AddEndpointFilter<AdminAccess>();
        group.MapPost("/runs", Start).AddEndpointFilter<JsonIngress>().WithName("StartBillRun");
        group.MapGet("/runs", async (O2XDatabase database, CancellationToken ct, int limit = 50) =>
            TypedResults.Ok(new RunList(await BillRunStore.RecentAsync(database, Math.Clamp(limit, 1, 500), ct)))).WithName("ListBillRuns");
        group.MapGet("/runs/{runId}", Get).WithName("GetBillRun");
        group.MapGet("/runs/{runId}/accounts", Accounts).WithName("GetBillRunAccounts");
        return app;
    }

    private static async Task<Results<Accepted<Started>, ProblemHttpResult>> Start(HttpContext http, ActorRegistry registry, O2XSettings settings,
        CancellationToken ct)
    {
        if (http.Request.ContentLength > MaxRequestBytes || await IngestionApi.ReadBodyAsync(http.Request, MaxRequestBytes, ct) is not { } body)
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, "Request too large", $"A bill-run request is at most {MaxRequestBytes} bytes.",
                ErrorCodes.InvalidMessage);
        string period;
        string? accountId;
        try
        {
            using var document = ParseObject(body);
            var root = document.RootElement;
            period = RequiredString(root, "period", "", 16);
            accountId = OptionalId(root, "account_id", "");
            if (!BillingPeriod.TryParseLabel(period, out var month))
                throw Invalid("period", $"'{TextExcerpt.Of(period)}' is not a month such as 2024-02 (from 2000-01)");
            var current = BillingPeriod.MonthOf(DateOnly.FromDateTime(DateTime.UtcNow));
            if (month >= current) throw Invalid("period", $"{period} has not ended: no cycle of it is over before {BillingPeriod.LabelOf(current.AddMonths(1))}");
        }
        catch (NonRetryableException refused)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Bill run refused", refused.Message, refused.ErrorCode);
        }

        if (!settings.Billing.Enabled || !registry.TryGet<BillRunCoordinatorSingleton>(out var coordinator))
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Billing disabled", "O2X:Billing:Enabled is off on this node.");
        BillRunAccepted accepted;
        try
        {
            accepted = await coordinator.Ask<BillRunAccepted>(new StartBillRun(period, accountId), settings.Entities.AskTimeout, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Bill run not accepted",
                $"The bill-run coordinator could not queue the run ({TextExcerpt.Of(ex.Message, 200)}); try again.");
        }
        var url = $"/api/billing/runs/{accepted.RunId}";
        return TypedResults.Accepted(url, new Started(accepted.RunId, period, accountId, url));
    }

    private static async Task<Results<Ok<BillRunView>, ProblemHttpResult>> Get(string runId, O2XDatabase database, CancellationToken ct) =>
        await BillRunStore.GetAsync(database, runId, ct) is { } run ? TypedResults.Ok(run) : NotFound(runId);

    private static async Task<Results<Ok<AccountPage>, ProblemHttpResult>> Accounts(string runId, O2XDatabase database, CancellationToken ct,
        string? outcome = null, string after = "", int limit = 100)
    {
        if (limit is < 1 or > 1000)
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid paging", "'limit' must be between 1 and 1000.", ErrorCodes.InvalidField);
        if (outcome is not null && outcome is not ("INVOICED" or "ALREADY_BILLED" or "NOTHING_TO_BILL" or "NOT_ENDED" or "FAILED"))
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid outcome",
                $"'{Problems.Truncate(outcome)}' is not one of INVOICED, ALREADY_BILLED, NOTHING_TO_BILL, NOT_ENDED, FAILED.", ErrorCodes.InvalidField);
        if (await BillRunStore.GetAsync(database, runId, ct) is null) return NotFound(runId);
        var items = await BillRunStore.AccountsAsync(database, runId, outcome, after, limit, ct);
        return TypedResults.Ok(new AccountPage(runId, items, items.Count == limit ? items[^1].AccountId : null));
    }

    private static ProblemHttpResult NotFound(string runId) =>
        Problems.Of(StatusCodes.Status404NotFound, "Unknown bill run", $"No bill run '{Problems.Truncate(runId)}'.");
}
