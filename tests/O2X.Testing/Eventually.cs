using System.Diagnostics;

namespace O2X.Testing;

/// <summary>Awaits a condition with a deadline instead of sleeping for a guessed time.</summary>
public static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> until, TimeSpan timeout, string because)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(10);
        T last = default!;
        Exception? lastError = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                last = await probe();
                lastError = null;
                if (until(last)) return last;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                lastError = ex;
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
        }

        throw new TimeoutException($"Not within {timeout.TotalSeconds:0.#} s: {because}. Last value: {last}", lastError);
    }

    public static Task TrueAsync(Func<Task<bool>> probe, TimeSpan timeout, string because) =>
        ReturnsAsync(probe, ok => ok, timeout, because);

    public static Task TrueAsync(Func<bool> probe, TimeSpan timeout, string because) =>
        ReturnsAsync(() => Task.FromResult(probe()), ok => ok, timeout, because);
}
