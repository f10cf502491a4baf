using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Sharding;
using O2X.Host.Hosting;

namespace O2X.Host.Apis;

/// <summary><c>GET /api/accounts/{id}</c>: an account's current state, read from its entity.</summary>
public static class AccountsApi
{
    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/accounts/{accountId}", GetAccount).WithName("GetAccount");
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
}
