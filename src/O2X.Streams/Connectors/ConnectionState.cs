namespace O2X.Streams.Connectors;

public enum ConnectionState { Connecting, Connected, Reconnecting, Stopped }

/// <summary>
/// The connection state of a source or publisher, for health checks and metrics. Updated from the
/// connector's own thread; read from anywhere.
/// </summary>
public sealed class ConnectionStatus
{
    private readonly object _gate = new();
    private volatile StatusSnapshot _snapshot = new(ConnectionState.Connecting, null, DateTimeOffset.UtcNow, 0);

    public ConnectionStatus(string name) => Name = name;

    public string Name { get; }

    public ConnectionState State => _snapshot.State;

    public StatusSnapshot Snapshot => _snapshot;

    public event Action<StatusSnapshot>? Changed;

    /// <summary>Sets the state: for connectors written outside this library (the error, if given, is what an operator sees).</summary>
    public void Report(ConnectionState state, string? lastError = null) => Set(state, lastError);

    internal void Set(ConnectionState state, string? lastError = null)
    {
        StatusSnapshot previous, next;
        lock (_gate)
        {
            previous = _snapshot;
            var reconnects = previous.Reconnects + (state == ConnectionState.Connected && previous.State == ConnectionState.Reconnecting ? 1 : 0);
            var since = previous.State == state ? previous.Since : DateTimeOffset.UtcNow;
            next = new StatusSnapshot(state, lastError ?? (state == ConnectionState.Connected ? null : previous.LastError), since, reconnects);
            _snapshot = next;
        }

        if (previous.State != state) Changed?.Invoke(next);
    }

    /// <summary>Notes an error that did not change the state (e.g. while closing).</summary>
    internal void RecordError(string error)
    {
        lock (_gate) _snapshot = _snapshot with { LastError = error };
    }

    public sealed record StatusSnapshot(ConnectionState State, string? LastError, DateTimeOffset Since, int Reconnects);
}
