using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// Runs a message's <see cref="HandlingPlan"/> to a final outcome: once, or with retries under supervision.
/// Never throws for a message: every failure becomes an outcome.
/// </summary>
internal interface IHandlingExecutor
{
    Task<HandlingOutcome> ExecuteAsync(MessageEnvelope envelope, HandlingPlan plan, CancellationToken cancellation);
}

/// <summary>One attempt, no retry: for transports whose client retries (and tests).</summary>
internal sealed class SingleAttemptExecutor(ExceptionPolicy? policy = null) : IHandlingExecutor
{
    private readonly ExceptionPolicy _policy = policy ?? ExceptionPolicy.Default;

    public static readonly SingleAttemptExecutor Instance = new();

    public async Task<HandlingOutcome> ExecuteAsync(MessageEnvelope envelope, HandlingPlan plan, CancellationToken cancellation)
    {
        try
        {
            return await plan.Execute(cancellation).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return OutcomeClassifier.FromException(ex, _policy);
        }
    }
}
