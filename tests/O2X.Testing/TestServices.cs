namespace O2X.Testing;

/// <summary>
/// The real services <c>./test.sh</c> starts on loopback and exports to the tests. A test that needs a
/// service fails with a clear message when it is absent — never skips — so a missing install step
/// cannot turn CI green.
/// </summary>
public static class TestServices
{
    public const string PostgresVariable = "O2X_TEST_POSTGRES";
    public const string RabbitMqVariable = "O2X_TEST_RABBITMQ_URI";
    public const string RabbitMqAmqp10Variable = "O2X_TEST_RABBITMQ_AMQP10_URI";
    public const string RabbitMqManagementVariable = "O2X_TEST_RABBITMQ_MANAGEMENT_URI";

    public const string ActiveMqStompVariable = "O2X_TEST_ACTIVEMQ_STOMP";

    public static bool IsCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>Connection string of the PostgreSQL server (database <c>postgres</c>, a superuser).</summary>
    public static string PostgresConnectionString => Require(PostgresVariable, "PostgreSQL");

    /// <summary><c>amqp://user:pass@127.0.0.1:port/</c> of the RabbitMQ server.</summary>
    public static Uri RabbitMqUri => new(Require(RabbitMqVariable, "RabbitMQ"));

    /// <summary>The same RabbitMQ's AMQP 1.0 listener (rabbitmq_amqp1_0 plugin).</summary>
    public static Uri RabbitMqAmqp10Uri => new(Require(RabbitMqAmqp10Variable, "RabbitMQ (AMQP 1.0)"));

    /// <summary>The RabbitMQ management HTTP API, credentials in the user-info part.</summary>
    public static Uri RabbitMqManagementUri => new(Require(RabbitMqManagementVariable, "RabbitMQ management"));

    /// <summary><c>stomp://127.0.0.1:port</c> of the ActiveMQ broker (scripts/activemq.sh).</summary>
    public static string ActiveMqStomp => Require(ActiveMqStompVariable, "ActiveMQ");

    /// <summary>The same broker's STOMP over TLS, <c>stomp+ssl://127.0.0.1:port</c> (certificate: <see cref="ActiveMqCa"/>).</summary>
    public static string ActiveMqStompSsl => Require("O2X_TEST_ACTIVEMQ_STOMPSSL", "ActiveMQ");

    /// <summary>PEM file of the broker's self-signed certificate, the CA a client trusts.</summary>
    public static string ActiveMqCa => Require("O2X_TEST_ACTIVEMQ_CA", "ActiveMQ");

    public static string ActiveMqUser => Require("O2X_TEST_ACTIVEMQ_USER", "ActiveMQ");

    public static string ActiveMqPassword => Require("O2X_TEST_ACTIVEMQ_PASSWORD", "ActiveMQ");

    /// <summary><c>amqp://127.0.0.1:port</c> of Qpid Proton's example broker: AMQP 1.0 without SASL, queues by bare name, in memory.</summary>
    public static Uri QpidAmqp10Uri => new(Require("O2X_TEST_QPID_AMQP10_URI", "the Qpid Proton broker"));

    /// <summary><c>host:port</c> of the aiosmtpd server on loopback (plain SMTP, no authentication).</summary>
    public static string Smtp => Require("O2X_TEST_SMTP", "the SMTP server");

    /// <summary>The Maildir the SMTP server writes every message it receives to (one file per message under <c>new/</c>).</summary>
    public static string SmtpMaildir => Require("O2X_TEST_SMTP_MAILDIR", "the SMTP server");

    private static string Require(string variable, string service)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(value)) return value;
        throw new InvalidOperationException(
            $"{service} is not available to this test: {variable} is not set. Run the tests with ./test.sh, which installs " +
            $"and starts {service} on loopback and exports {variable}." + (IsCi ? " (CI=true: services are mandatory.)" : ""));
    }
}
