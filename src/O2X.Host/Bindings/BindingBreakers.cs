using System.Collections.Concurrent;
using O2X.Actors.Messaging.Bindings;

namespace O2X.Host.Bindings;

/// <summary>The circuit breaker of each bound queue, for health checks and metrics.</summary>
internal sealed class BindingBreakers
{
    private readonly ConcurrentDictionary<string, BindingCircuitBreaker> _breakers = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, BindingCircuitBreaker> All => _breakers;

    public void Add(string queue, BindingCircuitBreaker breaker) => _breakers[queue] = breaker;
}
