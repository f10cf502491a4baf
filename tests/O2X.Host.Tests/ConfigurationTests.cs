using O2X.Host.Hosting;
using O2X.Host.Bindings;

using O2X.Host.Testing;

namespace O2X.Host.Tests;

public class ConfigurationTests
{
    [Theory]
    [InlineData("O2X:Node:Port", "70000", "O2X:Node:Port")]
    [InlineData("O2X:Node:Port", "four", "O2X:Node:Port")]
    [InlineData("O2X:Node:Prot", "4053", "Prot")]
    [InlineData("O2X:Node:SeedNodes:0", "http://node1:4053", "O2X:Node:SeedNodes:0")]
    [InlineData("O2X:Node:Roles:0", "billing", "O2X:Node:Roles")]
    [InlineData("O2X:Persistence:Provider", "PostgreSql", "O2X:Persistence:ConnectionString")]
    [InlineData("O2X:Persistence:Provider", "Oracle", "O2X:Persistence:Provider")]
    [InlineData("O2X:Persistence:BreakerResetTimeout", "00:00:00", "O2X:Persistence:BreakerResetTimeout")]
    [InlineData("O2X:Ingestion:MaxMessageBytes", "10", "O2X:Ingestion:MaxMessageBytes")]
    [InlineData("O2X:Entities:AskTimeout", "soon", "O2X:Entities:AskTimeout")]
    [InlineData("O2X:Entities:OrderPassivateIdleAfter", "00:00:00.5", "O2X:Entities:OrderPassivateIdleAfter")]
    [InlineData("O2X:Bindings:OMS:Transport", "Amqp091", "O2X:Transports:RabbitMq:Uri")]
    [InlineData("O2X:Bindings:OMS:Transport", "Amqp10", "O2X:Transports:Amqp10:Uri")]
    [InlineData("O2X:Bindings:OMS:Transport", "Kafka", "O2X:Transports:Kafka:BootstrapServers")]
    [InlineData("O2X:Bindings:OMS:Transport", "Stomp", "O2X:Transports:Stomp:Address")]
    [InlineData("O2X:Bindings:OMS:Transport", "ActiveMq", "O2X:Transports:Stomp:Address")]
    [InlineData("O2X:Bindings:OMS:Transport", "Carrier pigeon", "O2X:Bindings:OMS")]
    [InlineData("O2X:Bindings:OMS:Prefetch", "0", "O2X:Bindings:OMS:Prefetch")]
    [InlineData("O2X:Bindings:OMS:Handler", "NoSuchHandler", "O2X:Bindings:OMS:Handler 'NoSuchHandler'")]
    [InlineData("O2X:Bindings:COMPLEX_PROVISIONING:Transport", "Embedded", "O2X:Bindings:COMPLEX_PROVISIONING:Handler is required")]
    [InlineData("O2X:Bindings:bad queue!:Handler", "ComplexProvisioning", "not a valid queue name")]
    [InlineData("O2X:Destinations:NOWHERE:Transport", "Kafka", "O2X:Destinations:NOWHERE")]
    [InlineData("O2X:Outbox:Retention", "00:00:30", "O2X:Outbox:Retention")]
    [InlineData("O2X:Outbox:Retention", "-1.00:00:00", "O2X:Outbox:Retention")]
    [InlineData("O2X:Outbox:RetentionInterval", "00:00:00", "O2X:Outbox:RetentionInterval")]
    [InlineData("O2X:Destinations:OMS_RESPONSE:Transport", "Amqp091", "O2X:Transports:RabbitMq:Uri")]
    public async Task A_wrong_setting_stops_start_up_with_a_message_naming_it(string key, string value, string named)
    {
        await using var node = new O2XNodeFactory(new Dictionary<string, string?> { [key] = value });

        var start = () => node.CreateClient();

        start.Should().Throw<O2XConfigurationException>().Which.Message.Should().Contain(named);
    }

    [Fact]
    public void A_postgres_password_never_appears_in_the_description_of_the_store()
    {
        var options = new O2X.Actors.Hosting.PersistenceOptions { ConnectionString = "Host=db;Username=o2x;Password=s3cr3t;Database=o2x" };

        options.Describe().Should().NotContain("s3cr3t").And.Contain("PostgreSql").And.ContainEquivalentOf("host=db");
    }

    [Fact]
    public async Task A_broker_password_never_appears_in_a_start_up_error()
    {
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Bindings:OMS:Transport"] = "Amqp091",
            ["O2X:Transports:RabbitMq:Uri"] = "http://o2x:s3cr3t@rabbit:5672/",
        });

        var start = () => node.CreateClient();

        start.Should().Throw<O2XConfigurationException>().Which.Message.Should().Contain("O2X:Transports:RabbitMq:Uri").And.NotContain("s3cr3t");
    }

    [Theory]
    [InlineData("tcp://broker:61616", "OpenWire")]
    [InlineData("failover:(stomp+ssl://a:61614,stomp+ssl://b:61614", "closing parenthesis")]
    [InlineData("stomp+ssl://o2x:s3cr3t@broker:61614", "credentials do not belong in the address")]
    [InlineData("stomp://broker", "needs host:port")]
    public async Task A_wrong_activemq_address_stops_start_up_naming_the_setting_and_never_its_password(string address, string why)
    {
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Bindings:OMS:Transport"] = "ActiveMq",
            ["O2X:Transports:Stomp:Address"] = address,
            ["O2X:Transports:Stomp:Username"] = "o2x",
            ["O2X:Transports:Stomp:Password"] = "p4ssw0rd",
        });

        var start = () => node.CreateClient();

        var message = start.Should().Throw<O2XConfigurationException>().Which.Message;
        message.Should().Contain("O2X:Transports:Stomp:Address").And.NotContain("s3cr3t").And.NotContain("p4ssw0rd");
        if (why != "OpenWire") message.Should().Contain(why);
    }

    [Fact]
    public void Stomp_destinations_follow_the_template_and_a_missing_ca_file_is_named()
    {
        var transports = new TransportOptions { Stomp = { Address = "stomp://broker:61613", DestinationTemplate = "/queue/legacy.{queue}", CaCertificate = "/nowhere/ca.pem" } };
        var brokers = new O2X.Host.Bindings.BrokerTransports(transports);

        brokers.AddressOf(O2X.Host.Bindings.TransportKind.Stomp, "OMS", null).Should().Be("/queue/legacy.OMS");
        brokers.AddressOf(O2X.Host.Bindings.TransportKind.ActiveMq, "OMS", "/queue/ORDERS").Should().Be("/queue/ORDERS");
        transports.Validate(new HashSet<O2X.Host.Bindings.TransportKind> { O2X.Host.Bindings.TransportKind.Stomp })
            .Should().ContainSingle().Which.Should().Contain("O2X:Transports:Stomp:CaCertificate '/nowhere/ca.pem' does not exist");
    }

    [Fact]
    public void Amqp10_addresses_follow_the_template_unless_a_binding_names_its_own()
    {
        var transports = new TransportOptions { Amqp10 = { AddressTemplate = "queue://{queue}" } };
        var brokers = new O2X.Host.Bindings.BrokerTransports(transports);

        brokers.AddressOf(O2X.Host.Bindings.TransportKind.Amqp10, "OMS", null).Should().Be("queue://OMS");
        brokers.AddressOf(O2X.Host.Bindings.TransportKind.Amqp10, "OMS", "topic://orders").Should().Be("topic://orders");
        brokers.AddressOf(O2X.Host.Bindings.TransportKind.Kafka, "OMS", null).Should().Be("OMS");
    }

    [Fact]
    public void Credentials_from_settings_go_into_the_broker_uri_and_its_description_hides_the_password()
    {
        var options = new TransportOptions.RabbitMqOptions { Uri = "amqp://rabbit:5672/o2x", Username = "o2x", Password = "p@ss:word" };

        var settings = options.ToSettings();

        Uri.UnescapeDataString(settings.Uri.UserInfo).Should().Be("o2x:p@ss:word");
        settings.ToString().Should().NotContain("p%40ss").And.NotContain("p@ss").And.Contain("rabbit");
    }
}
