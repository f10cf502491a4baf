using System.Security.Cryptography.X509Certificates;
using O2X.Streams.Connectors;

namespace O2X.Streams.Stomp;

/// <summary>
/// How to reach a STOMP 1.2 broker (ActiveMQ, Amazon MQ): its endpoints (one, or an active/standby list tried in order),
/// credentials, TLS trust, heart-beats and reconnection. Immutable; derive with <c>With*</c>. The password is never part of
/// <see cref="ToString"/>.
/// </summary>
public sealed record StompConnectionSettings
{
    public StompConnectionSettings(string address) : this(StompEndpoints.Parse(address)) { }

    public StompConnectionSettings(IReadOnlyList<StompEndpoint> endpoints)
    {
        if (endpoints.Count == 0) throw new ArgumentException("A STOMP connection needs at least one endpoint.", nameof(endpoints));
        Endpoints = endpoints;
    }

    /// <summary>Brokers in the order they are tried; after a loss the connection moves to the first that answers.</summary>
    public IReadOnlyList<StompEndpoint> Endpoints { get; private init; }

    public string? Username { get; private init; }

    private string? Password { get; init; }

    /// <summary>The <c>host</c> header of CONNECT (a virtual host); default: the endpoint's host.</summary>
    public string? VirtualHost { get; private init; }

    /// <summary>Certificates the broker's TLS certificate must chain to (a private CA); empty: the system's trust store.</summary>
    public X509Certificate2Collection TrustedCertificates { get; private init; } = [];

    /// <summary>How often the client sends a heart-beat when idle, and how often it wants to hear from the broker (0: none).</summary>
    public TimeSpan HeartBeat { get; private init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed to open a connection to one endpoint (TCP, TLS and CONNECTED).</summary>
    public TimeSpan ConnectTimeout { get; private init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest frame read from the broker; a larger one is a protocol error that closes the connection.</summary>
    public int MaxFrameBytes { get; private init; } = 16 * 1024 * 1024;

    public ReconnectBackoff Reconnect { get; private init; } = ReconnectBackoff.Default;

    public StompConnectionSettings WithCredentials(string? username, string? password) => this with { Username = username, Password = password };

    public StompConnectionSettings WithVirtualHost(string? host) => this with { VirtualHost = host };

    public StompConnectionSettings WithTrustedCertificates(X509Certificate2Collection certificates) => this with { TrustedCertificates = certificates };

    /// <summary>Trusts the PEM certificates in <paramref name="path"/> (a CA bundle, or the broker's self-signed certificate).</summary>
    public StompConnectionSettings WithTrustedCertificatesFromPem(string path)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        if (certificates.Count == 0) throw new ArgumentException($"No PEM certificate in '{path}'.", nameof(path));
        return WithTrustedCertificates(certificates);
    }

    public StompConnectionSettings WithHeartBeat(TimeSpan interval) => this with { HeartBeat = interval < TimeSpan.Zero ? TimeSpan.Zero : interval };

    public StompConnectionSettings WithConnectTimeout(TimeSpan timeout) => this with { ConnectTimeout = timeout };

    public StompConnectionSettings WithMaxFrameBytes(int bytes) => this with { MaxFrameBytes = Math.Max(4096, bytes) };

    public StompConnectionSettings WithReconnect(ReconnectBackoff backoff) => this with { Reconnect = backoff };

    internal string? Passcode => Password;

    public override string ToString() =>
        (Endpoints.Count == 1 ? Endpoints[0].ToString() : $"failover:({string.Join(",", Endpoints)})") + (Username is null ? "" : $" as {Username}");
}

/// <summary>What a STOMP source consumes. Immutable; derive with <c>With*</c>.</summary>
public sealed record StompSourceSettings
{
    public StompSourceSettings(StompConnectionSettings connection, string destination)
    {
        Connection = connection;
        Destination = StompDestination.Normalize(destination);
    }

    public StompConnectionSettings Connection { get; private init; }

    /// <summary><c>/queue/NAME</c> (a bare name means a queue).</summary>
    public string Destination { get; private init; }

    /// <summary>Messages the broker delivers before they are acknowledged (ActiveMQ's <c>activemq.prefetchSize</c>) — the bound on memory.</summary>
    public int Prefetch { get; private init; } = 100;

    /// <summary>Extra SUBSCRIBE headers (e.g. <c>selector</c>).</summary>
    public IReadOnlyDictionary<string, string> SubscribeHeaders { get; private init; } = new Dictionary<string, string>();

    public StompSourceSettings WithPrefetch(int prefetch) => this with { Prefetch = Math.Clamp(prefetch, 1, 65535) };

    public StompSourceSettings WithSubscribeHeaders(IReadOnlyDictionary<string, string> headers) => this with { SubscribeHeaders = headers };
}

/// <summary>Where a STOMP publisher sends. Immutable; derive with <c>With*</c>.</summary>
public sealed record StompPublishSettings
{
    public StompPublishSettings(StompConnectionSettings connection, string destination)
    {
        Connection = connection;
        Destination = StompDestination.Normalize(destination);
    }

    public StompConnectionSettings Connection { get; private init; }

    public string Destination { get; private init; }

    /// <summary>Kept on the broker's disk until consumed (<c>persistent:true</c>); default on.</summary>
    public bool Persistent { get; private init; } = true;

    /// <summary>How long a SEND may wait for its receipt before the connection counts as broken.</summary>
    public TimeSpan ReceiptTimeout { get; private init; } = TimeSpan.FromSeconds(30);

    public StompPublishSettings WithPersistent(bool persistent) => this with { Persistent = persistent };

    public StompPublishSettings WithReceiptTimeout(TimeSpan timeout) => this with { ReceiptTimeout = timeout };
}

/// <summary>STOMP destination names as ActiveMQ reads them.</summary>
public static class StompDestination
{
    /// <summary>A bare name becomes <c>/queue/NAME</c>; <c>/queue/…</c>, <c>/topic/…</c> and <c>/temp-queue/…</c> stay.</summary>
    public static string Normalize(string destination)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        if (destination.StartsWith('/')) return destination;
        if (destination.StartsWith("queue://", StringComparison.Ordinal)) return "/queue/" + destination["queue://".Length..];
        if (destination.StartsWith("topic://", StringComparison.Ordinal)) return "/topic/" + destination["topic://".Length..];
        return "/queue/" + destination;
    }
}

/// <summary>A message consumed from, or to be published to, a STOMP broker.</summary>
/// <param name="Body">The body bytes.</param>
/// <param name="MessageId">
/// On consume: the broker's <c>message-id</c> (ActiveMQ: the JMSMessageID, the same on every redelivery). On publish: sent as the
/// <c>message_id</c> header (the broker assigns its own <c>message-id</c>).
/// </param>
/// <param name="CorrelationId">The <c>correlation-id</c> header (JMSCorrelationID).</param>
/// <param name="Headers">Application headers (JMS properties); on consume without the protocol's own headers.</param>
/// <param name="Redelivered">The broker delivered it before (ActiveMQ keeps no count).</param>
/// <param name="Destination">On consume: where it was consumed from; on publish: unused (the publisher's destination).</param>
public sealed record StompMessage(
    ReadOnlyMemory<byte> Body,
    string? MessageId = null,
    string? CorrelationId = null,
    IReadOnlyDictionary<string, string>? Headers = null,
    bool Redelivered = false,
    string? Destination = null);
