namespace O2X.Actors.Messaging.Bindings;

/// <summary>
/// How a queue binding runs its handler. Immutable; derive variants with the <c>With*</c> methods.
/// </summary>
internal sealed record HandlingSettings
{
    public static readonly HandlingSettings Default = new();

    /// <summary>Messages handled at once (distinct ordering keys).</summary>
    public int Parallelism { get; private init; } = 64;

    /// <summary>Messages held inside the handling stage (running, waiting behind their key, done but not yet
    /// acknowledged) before it stops pulling from the source.</summary>
    public int MaxHeld { get; private init; } = 256;

    /// <summary>Told about every message taken in and its outcome (metrics); none by default.</summary>
    public Messaging.IHandlingObserver? Observer { get; private init; }

    public HandlingSettings WithObserver(Messaging.IHandlingObserver? observer) => this with { Observer = observer };

    public HandlingSettings WithParallelism(int parallelism)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        return this with { Parallelism = parallelism, MaxHeld = Math.Max(MaxHeld, parallelism) };
    }

    public HandlingSettings WithMaxHeld(int maxHeld)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeld, Parallelism);
        return this with { MaxHeld = maxHeld };
    }
}
