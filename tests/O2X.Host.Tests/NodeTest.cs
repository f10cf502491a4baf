using O2X.Host.Testing;

namespace O2X.Host.Tests;

/// <summary>A test class with one in-process node for all its tests' lifetime and an HTTP client to it.</summary>
public abstract class NodeTest(IDictionary<string, string?>? settings = null) : Xunit.IAsyncLifetime
{
    protected O2XNodeFactory Node { get; } = new(settings);

    protected HttpClient Http { get; private set; } = null!;

    public virtual Task InitializeAsync()
    {
        Http = Node.CreateClient();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync() => await Node.DisposeAsync();
}
