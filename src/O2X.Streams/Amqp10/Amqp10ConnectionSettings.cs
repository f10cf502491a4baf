using System.Net.Security;
using Amqp;
using O2X.Streams.Connectors;

namespace O2X.Streams.Amqp10;

/// <summary>
/// How to reach an AMQP 1.0 broker (ActiveMQ, Amazon MQ, Artemis, RabbitMQ's AMQP 1.0 plugin). The URI carries
/// the credentials (SASL PLAIN): <c>amqp://user:pass@host:5672</c>; <c>amqps://</c> uses TLS. Immutable; derive
/// with <c>With*</c>. <see cref="ToString"/> never shows the password.
/// </summary>
public sealed record Amqp10ConnectionSettings
{
    public Amqp10ConnectionSettings(Uri uri) => Uri = uri;

    public Uri Uri { get; private init; }

    public ReconnectBackoff Reconnect { get; private init; } = ReconnectBackoff.Default;

    /// <summary>Skip TLS certificate validation (development brokers with self-signed certificates only).</summary>
    public bool AcceptAnyServerCertificate { get; private init; }

    public Amqp10ConnectionSettings WithReconnect(ReconnectBackoff backoff) => this with { Reconnect = backoff };

    public Amqp10ConnectionSettings WithAcceptAnyServerCertificate(bool accept) => this with { AcceptAnyServerCertificate = accept };

    internal Task<Connection> ConnectAsync()
    {
        var factory = new ConnectionFactory();
        if (AcceptAnyServerCertificate)
            factory.SSL.RemoteCertificateValidationCallback = (_, _, _, errors) => errors is SslPolicyErrors.None or SslPolicyErrors.RemoteCertificateChainErrors
                or SslPolicyErrors.RemoteCertificateNameMismatch or (SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch);
        return factory.CreateAsync(new Address(Uri.ToString()));
    }

    public override string ToString() => new UriBuilder(Uri) { Password = Uri.UserInfo.Contains(':') ? "***" : "" }.Uri.ToString();
}

/// <summary>Address forms of the brokers O2X meets (the form is broker-specific; configure it per binding).</summary>
public static class Amqp10Address
{
    /// <summary>RabbitMQ's AMQP 1.0 plugin, an existing queue.</summary>
    public static string RabbitMqQueue(string queue) => "/amq/queue/" + queue;

    /// <summary>ActiveMQ / Amazon MQ: a queue.</summary>
    public static string ActiveMqQueue(string queue) => "queue://" + queue;
}
