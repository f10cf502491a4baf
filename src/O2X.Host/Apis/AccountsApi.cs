using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Sharding;
using O2X.Host.Hosting;

namespace O2X.Host.Apis;

/// <summary><c>GET /api/accounts/{id}</c>: an account's current state, read from its entity.</summary>
internal static class AccountsApi
{
    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/accounts/{accountId}", GetAccount).WithName("GetAccount");
        app.MapGet("/api/accounts/{accountId}/invoices/{invoice}", GetInvoice).WithName("GetInvoice");
        app.MapGet("/api/accounts/{accountId}/invoices/{invoice}/pdf", GetInvoicePdf).WithName("GetInvoicePdf");
        return app;
    }

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> GetAccount(
        string accountId, IRequiredActor<AccountRegion> accounts, O2XSettings settings, CancellationToken ct)
    {
        if (!EntityIds.IsValid(accountId)) return Problems.BadId("account id", accountId);
        var reply = await accounts.ActorRef.Ask<object>(new GetAccount(accountId), settings.Entities.AskTimeout, ct);
        return reply switch
        {
            AccountView view => TypedResults.Ok(view),
            EntityNotFound => Problems.Of(StatusCodes.Status404NotFound, "Account not found", $"No account {accountId}.", ErrorCodes.AccountNotFound),
            _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name} to {nameof(GetAccount)}"),
        };
    }

    /// <summary>The invoice as a PDF (its latest revision), rendered when asked: <c>{invoice}</c> as for <see cref="GetInvoice"/>.</summary>
    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetInvoicePdf(
        string accountId, string invoice, IRequiredActor<AccountRegion> accounts, O2XSettings settings, CancellationToken ct)
    {
        if (!EntityIds.IsValid(accountId)) return Problems.BadId("account id", accountId);
        if (!EntityIds.IsValid(invoice)) return Problems.BadId("invoice number", invoice);
        var reply = await accounts.ActorRef.Ask<object>(new GetAccount(accountId), settings.Entities.AskTimeout, ct);
        if (reply is AccountView view && await accounts.ActorRef.Ask<object>(new GetInvoice(accountId, invoice), settings.Entities.AskTimeout, ct) is Invoice found)
            return TypedResults.File(Actors.Invoicing.InvoicePdf.Render(found, view.BillingAddress), "application/pdf", found.InvoiceNumber + ".pdf");
        return Problems.Of(StatusCodes.Status404NotFound, "Invoice not found", $"Account {accountId} has no invoice {invoice}.", ErrorCodes.InvoiceNotFound);
    }

    /// <summary><c>{invoice}</c> is the invoice's sequence on the account (1, 2, …) or its full number.</summary>
    private static async Task<Results<Ok<Invoice>, ProblemHttpResult>> GetInvoice(
        string accountId, string invoice, IRequiredActor<AccountRegion> accounts, O2XSettings settings, CancellationToken ct)
    {
        if (!EntityIds.IsValid(accountId)) return Problems.BadId("account id", accountId);
        if (!EntityIds.IsValid(invoice)) return Problems.BadId("invoice number", invoice);
        var reply = await accounts.ActorRef.Ask<object>(new GetInvoice(accountId, invoice), settings.Entities.AskTimeout, ct);
        return reply switch
        {
            Invoice found => TypedResults.Ok(found),
            EntityNotFound => Problems.Of(StatusCodes.Status404NotFound, "Invoice not found", $"Account {accountId} has no invoice {invoice}.", ErrorCodes.InvoiceNotFound),
            _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name} to {nameof(GetInvoice)}"),
        };
    }
}
