using O2X.Actors.Hosting;
using O2X.Streams.Amqp;
using O2X.Streams.Amqp10;
using O2X.Streams.Kafka;
using O2X.Streams.Stomp;

namespace O2X.Host.Bindings;

/// <summary>
/// How to reach the brokers (<c>O2X:Transports</c>). Only the transports some binding or destination uses need
/// to be configured. Credentials come from configuration or the environment (<c>O2X__Transports__RabbitMq__Password</c>)
/// and are never logged: the <c>Describe</c> methods mask them.
/// </summary>
internal sealed class TransportOptions
{
    public const string Section = "O2X:Transports";

    public RabbitMqOptions RabbitMq { get; set; } = new();

    public Amqp10Options Amqp10 { get; set; } = new();

    public KafkaOptions Kafka { get; set; } = new();

    public StompOptions Stomp { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>Problems with the transports that <paramref name="used"/> names.</summary>
    public IEnumerable<string> Validate(IReadOnlySet<TransportKind> used)
    {
        if (used.Contains(TransportKind.Amqp091))
            foreach (var problem in RabbitMq.Validate(Section + ":RabbitMq")) yield return problem;
        if (used.Contains(TransportKind.Amqp10))
            foreach (var problem in Amqp10.Validate(Section + ":Amqp10")) yield return problem;
        if (used.Contains(TransportKind.Kafka))
            foreach (var problem in Kafka.Validate(Section + ":Kafka")) yield return problem;
        if (used.Contains(TransportKind.Stomp))
            foreach (var problem in Stomp.Validate(Section + ":Stomp")) yield return problem;
        if (used.Contains(TransportKind.Smtp))
            foreach (var problem in Smtp.Validate(Section + ":Smtp")) yield return problem;
    }

    public sealed class RabbitMqOptions
    {
        /// <summary><c>amqp://host:5672/vhost</c> or <c>amqps://…</c> for TLS.</summary>
        public string? Uri { get; set; }

        /// <summary>Overrides the user of <see cref="Uri"/>.</summary>
        public string? Username { get; set; }

        /// <summary>Overrides the password of <see cref="Uri"/>.</summary>
        public string? Password { get; set; }

        /// <summary>Shown in RabbitMQ's management UI.</summary>
        public string ClientName { get; set; } = "o2x";

        public IEnumerable<string> Validate(string section) =>
            BrokerUri.Validate(section, Uri, ["amqp", "amqps"]);

        public AmqpConnectionSettings ToSettings() =>
            new AmqpConnectionSettings(BrokerUri.WithCredentials(Uri!, Username, Password)).WithClientName(ClientName);
    }

    public sealed class Amqp10Options
    {
        /// <summary><c>amqp://host:5672</c> or <c>amqps://…</c> for TLS; SASL PLAIN with the credentials.</summary>
        public string? Uri { get; set; }

        public string? Username { get; set; }

        public string? Password { get; set; }

        /// <summary>
        /// How an O2X queue name becomes an address when a binding names none: <c>{queue}</c> (default),
        /// <c>/amq/queue/{queue}</c> on RabbitMQ, <c>queue://{queue}</c> on ActiveMQ.
        /// </summary>
        public string AddressTemplate { get; set; } = "{queue}";

        /// <summary>Skip TLS certificate validation (development brokers only).</summary>
        public bool AcceptAnyServerCertificate { get; set; }

        public IEnumerable<string> Validate(string section)
        {
            foreach (var problem in BrokerUri.Validate(section, Uri, ["amqp", "amqps"])) yield return problem;
            if (!AddressTemplate.Contains("{queue}", StringComparison.Ordinal))
                yield return $"{section}:AddressTemplate must contain {{queue}} (was '{AddressTemplate}').";
        }

        public string AddressOf(string queue) => AddressTemplate.Replace("{queue}", queue, StringComparison.Ordinal);

        public Amqp10ConnectionSettings ToSettings() =>
            new Amqp10ConnectionSettings(BrokerUri.WithCredentials(Uri!, Username, Password)).WithAcceptAnyServerCertificate(AcceptAnyServerCertificate);
    }

    public sealed class KafkaOptions
    {
        /// <summary><c>host1:9092,host2:9092</c>.</summary>
        public string? BootstrapServers { get; set; }

        public string ClientId { get; set; } = "o2x";

        /// <summary>PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; unset: no SASL.</summary>
        public string? SaslMechanism { get; set; }

        public string? SaslUsername { get; set; }

        public string? SaslPassword { get; set; }

        public bool UseTls { get; set; }

        /// <summary>How long the group waits for a silent consumer before rebalancing its partitions away.</summary>
        public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(30);

        public IEnumerable<string> Validate(string section)
        {
            if (string.IsNullOrWhiteSpace(BootstrapServers)) yield return $"{section}:BootstrapServers is required by a binding or destination on Kafka.";
            if (SaslMechanism is not null && SaslMechanism is not ("PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512"))
                yield return $"{section}:SaslMechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (was '{SaslMechanism}').";
            if (SaslMechanism is not null && (string.IsNullOrEmpty(SaslUsername) || string.IsNullOrEmpty(SaslPassword)))
                yield return $"{section}:SaslUsername and {section}:SaslPassword are required with SaslMechanism.";
            if (SessionTimeout < TimeSpan.FromSeconds(1) || SessionTimeout > TimeSpan.FromMinutes(30))
                yield return $"{section}:SessionTimeout must be between 00:00:01 and 00:30:00 (was {SessionTimeout}).";
        }

        public KafkaConnectionSettings ToSettings()
        {
            var settings = new KafkaConnectionSettings(BootstrapServers!).WithClientId(ClientId).WithTls(UseTls);
            return SaslMechanism is null ? settings : settings.WithSasl(SaslMechanism, SaslUsername!, SaslPassword!);
        }
    }
}

/// <summary>
/// ActiveMQ / Amazon MQ over STOMP 1.2 (<c>O2X:Transports:Stomp</c>). Amazon MQ hands out an active/standby pair as
/// <c>failover:(stomp+ssl://b-1…:61614,stomp+ssl://b-2…:61614)</c>: paste it as <see cref="Address"/>.
/// </summary>
internal sealed class StompOptions
{
    /// <summary><c>stomp://host:61613</c>, <c>stomp+ssl://host:61614</c> (TLS 1.2+) or <c>failover:(uri1,uri2)</c>.</summary>
    public string? Address { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>PEM file of the CA (or the broker's self-signed certificate) to validate the broker's TLS certificate against; unset: the system's trust store.</summary>
    public string? CaCertificate { get; set; }

    /// <summary>The <c>host</c> header of CONNECT; unset: the broker's host name.</summary>
    public string? VirtualHost { get; set; }

    /// <summary>Heart-beat interval both ways; 0 turns heart-beating off.</summary>
    public TimeSpan HeartBeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How an O2X queue or destination name becomes a STOMP destination when none is configured.</summary>
    public string DestinationTemplate { get; set; } = "/queue/{queue}";

    public IEnumerable<string> Validate(string section)
    {
        if (string.IsNullOrWhiteSpace(Address))
        {
            yield return $"{section}:Address is required by a binding or destination on STOMP (stomp://host:61613, stomp+ssl://host:61614 or failover:(…)).";
            yield break;
        }

        string? problem = null;
        try
        {
            StompEndpoints.Parse(Address);
        }
        catch (FormatException ex)
        {
            problem = $"{section}:Address: {ex.Message}";
        }

        if (problem is not null) yield return problem;
        if (CaCertificate is not null && !File.Exists(CaCertificate))
            yield return $"{section}:CaCertificate '{CaCertificate}' does not exist (a PEM file of the CA that signed the broker's certificate).";
        if (Password is not null && Username is null) yield return $"{section}:Username is required with a Password.";
        if (HeartBeat < TimeSpan.Zero || HeartBeat > TimeSpan.FromMinutes(10))
            yield return $"{section}:HeartBeat must be between 00:00:00 (off) and 00:10:00 (was {HeartBeat}).";
        if (!DestinationTemplate.Contains("{queue}", StringComparison.Ordinal))
            yield return $"{section}:DestinationTemplate must contain {{queue}} (was '{DestinationTemplate}').";
    }

    public string DestinationOf(string queue) => DestinationTemplate.Replace("{queue}", queue, StringComparison.Ordinal);

    public StompConnectionSettings ToSettings()
    {
        var settings = new StompConnectionSettings(Address!).WithCredentials(Username, Password).WithVirtualHost(VirtualHost).WithHeartBeat(HeartBeat);
        return CaCertificate is null ? settings : settings.WithTrustedCertificatesFromPem(CaCertificate);
    }
}

/// <summary>An outbound destination on a broker (<c>O2X:Destinations:{NAME}</c>); unset: embedded (the outbox table only).</summary>
/// <summary>The mail server invoices are sent through (<c>O2X:Transports:Smtp</c>). The password is never logged.</summary>
internal sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>
    /// <c>StartTls</c> (default: refuse a server that does not offer it), <c>SslOnConnect</c> (port 465), <c>StartTlsWhenAvailable</c>,
    /// or <c>None</c> (a relay on the same machine only).
    /// </summary>
    public MailKit.Security.SecureSocketOptions Security { get; set; } = MailKit.Security.SecureSocketOptions.StartTls;

    /// <summary>Log in with these when set (AUTH over the secured connection).</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender address (also the domain of every Message-ID).</summary>
    public string? From { get; set; }

    public string FromName { get; set; } = "O2X Billing";

    /// <summary>How long one SMTP command may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<string> Validate(string section)
    {
        if (string.IsNullOrWhiteSpace(Host)) yield return $"{section}:Host is required by a destination on SMTP.";
        if (Port is < 1 or > 65535) yield return $"{section}:Port must be 1-65535 (was {Port}).";
        if (From is null || !Actors.Invoicing.BillingFieldReader.IsMailbox(From)) yield return $"{section}:From must be an e-mail address (was '{From}').";
        if (Username is not null && Password is null) yield return $"{section}:Password is required with a Username.";
        if (Security == MailKit.Security.SecureSocketOptions.None && Username is not null)
            yield return $"{section}: credentials are never sent without TLS; set Security to StartTls or SslOnConnect.";
        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromMinutes(5)) yield return $"{section}:Timeout must be 00:00:01-00:05:00 (was {Timeout}).";
    }
}

internal sealed class DestinationOptions
{
    public const string Section = "O2X:Destinations";

    public TransportKind Transport { get; set; } = TransportKind.Embedded;

    /// <summary>Broker queue, AMQP 1.0 address, STOMP destination or Kafka topic. Default: the destination name (AMQP 1.0, STOMP: through the template).</summary>
    public string? Address { get; set; }

    /// <summary>Declared queue type on RabbitMQ.</summary>
    public AmqpQueueType QueueType { get; set; } = AmqpQueueType.Quorum;
}

internal static class BrokerUri
{
    public static IEnumerable<string> Validate(string section, string? uri, string[] schemes)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            yield return $"{section}:Uri is required by a binding or destination on this transport.";
            yield break;
        }

        if (!System.Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !schemes.Contains(parsed.Scheme))
            yield return $"{section}:Uri must be an absolute {string.Join(" or ", schemes.Select(s => s + "://"))} URI (was '{Masked(uri)}').";
    }

    public static Uri WithCredentials(string uri, string? username, string? password)
    {
        var builder = new UriBuilder(uri);
        if (username is not null) builder.UserName = Uri.EscapeDataString(username);
        if (password is not null) builder.Password = Uri.EscapeDataString(password);
        return builder.Uri;
    }

    /// <summary>The URI with any password replaced, for messages.</summary>
    public static string Masked(string uri)
    {
        var at = uri.IndexOf('@', StringComparison.Ordinal);
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme) return uri;
        var userInfo = uri[(scheme + 3)..at];
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? uri : uri[..(scheme + 3)] + userInfo[..colon] + ":***" + uri[at..];
    }
}
