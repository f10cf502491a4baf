using RabbitMQ.Client;
using O2X.Streams.Connectors;

namespace O2X.Streams.Amqp;

/// <summary>
/// How to reach a RabbitMQ broker (AMQP 0-9-1). Immutable; derive with the <c>With*</c> methods. The URI may
/// carry credentials (<c>amqp://user:pass@host:5672/vhost</c>, <c>amqps://</c> for TLS); <see cref="ToString"/>
/// never shows the password.
/// </summary>
public sealed record AmqpConnectionSettings
{
    public AmqpConnectionSettings(Uri uri) => Uri = uri;

    public Uri Uri { get; private init; }

    /// <summary>Shown in the broker's management UI.</summary>
    public string ClientName { get; private init; } = "o2x";

    public TimeSpan Heartbeat { get; private init; } = TimeSpan.FromSeconds(30);

    public ReconnectBackoff Reconnect { get; private init; } = ReconnectBackoff.Default;

    public AmqpConnectionSettings WithClientName(string name) => this with { ClientName = name };

    public AmqpConnectionSettings WithHeartbeat(TimeSpan heartbeat) => this with { Heartbeat = heartbeat };

    public AmqpConnectionSettings WithReconnect(ReconnectBackoff backoff) => this with { Reconnect = backoff };

    /// <summary>Our own reconnection (not the client's automatic recovery: after it, delivery tags restart on the same channel
    /// object, and an ack of an old tag could settle the wrong message).</summary>
    internal ConnectionFactory CreateFactory() => new()
    {
        Uri = Uri,
        ClientProvidedName = ClientName,
        RequestedHeartbeat = Heartbeat,
        AutomaticRecoveryEnabled = false,
        TopologyRecoveryEnabled = false,
    };

    public override string ToString() => new UriBuilder(Uri) { Password = Uri.UserInfo.Contains(':') ? "***" : "" }.Uri.ToString();
}
