using Akka.Actor;

namespace O2X.Actors.Messaging;

/// <summary>
/// Asks an entity (through its shard region) and classifies the answer the way handlers need it:
/// a refusal becomes <see cref="NonRetryableException"/>, a timeout or an unavailable journal a
/// <see cref="RetryableException"/>.
/// </summary>
internal static class EntityAsk
{
    public static async Task<T> AskAsync<T>(IActorRef region, object message, TimeSpan timeout, CancellationToken cancellation)
    {
        object reply;
        try
        {
            reply = await region.Ask<object>(message, timeout, cancellation).ConfigureAwait(false);
        }
        catch (AskTimeoutException ex)
        {
            throw new RetryableException($"{message.GetType().Name} was not answered within {timeout.TotalSeconds:0.#} s", ex);
        }

        return reply switch
        {
            T answer => answer,
            CommandRefused refused => throw new NonRetryableException(refused.ErrorCode, refused.Message),
            // The entity's own failure keeps its type, so the binding's policy classifies it (a defect is not retried).
            Status.Failure failure => throw Rethrow(failure.Cause),
            _ => throw new InvalidOperationException($"{message.GetType().Name} was answered with unexpected {reply.GetType().Name}"),
        };
    }

    private static Exception Rethrow(Exception cause)
    {
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(cause).Throw();
        return cause;
    }

    /// <summary>Sends a command and returns the <see cref="CommandDone"/> once its effect is persisted.</summary>
    public static Task<CommandDone> CommandAsync(IActorRef region, object command, TimeSpan timeout, CancellationToken cancellation) =>
        AskAsync<CommandDone>(region, command, timeout, cancellation);
}
