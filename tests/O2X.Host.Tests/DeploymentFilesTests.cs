using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using O2X.Host.Hosting;
using O2X.Testing;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace O2X.Host.Tests;

/// <summary>
/// docker-compose.yml and the Dockerfile cannot run here (no Docker engine): they are parsed instead, and every
/// node's environment must be accepted by the node's own configuration loading (unknown keys are errors there),
/// every host it names must be a service, and the health check must hit the endpoint the node serves.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly string Root = RepositoryLayout.Root;

    private static Dictionary<string, object> Compose()
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(Root, "docker-compose.yml")));
        // MergingParser resolves the "<<: *o2x-node" merge keys as Compose does.
        var document = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
        return document.ToDictionary(e => (string)e.Key, e => e.Value);
    }

    private static Dictionary<string, object> Services() =>
        ((Dictionary<object, object>)Compose()["services"]).ToDictionary(e => (string)e.Key, e => e.Value);

    private static Dictionary<string, string> Environment(string service) =>
        ((Dictionary<object, object>)((Dictionary<object, object>)Services()[service])["environment"])
        .ToDictionary(e => (string)e.Key, e => Interpolate((string)e.Value));

    /// <summary>Compose interpolation as it would run with nothing exported: defaults, and a token for required ones.</summary>
    private static string Interpolate(string value) =>
        Regex.Replace(value, @"\$\{(\w+)(:-([^}]*)|:\?[^}]*)?\}", m => m.Groups[3].Success ? m.Groups[3].Value : "token-for-the-compose-test-0123456789");

    [Fact]
    public void Compose_has_the_brokers_the_database_and_three_nodes()
    {
        Services().Keys.Should().BeEquivalentTo(["postgres", "rabbitmq", "kafka", "o2x-1", "o2x-2", "o2x-3"]);
    }

    [Theory]
    [InlineData("o2x-1")]
    [InlineData("o2x-2")]
    [InlineData("o2x-3")]
    public void Every_node_environment_is_accepted_by_the_nodes_configuration(string service)
    {
        var environment = Environment(service);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Where(e => e.Key.StartsWith("O2X__", StringComparison.Ordinal))
                .Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), (string?)e.Value)))
            .Build();

        var settings = O2XSettings.Load(configuration); // throws, naming the key, on anything unknown or invalid

        settings.Node.PublicHostname.Should().Be(service);
        settings.Persistence.ConnectionString.Should().Contain("Host=postgres");
        settings.DestinationTransports.Should().ContainKey("OMS_RESPONSE");
    }

    [Fact]
    public void Every_host_a_node_names_is_a_service_listening_where_the_node_expects()
    {
        var services = Services();
        var environment = Environment("o2x-1");
        foreach (var seed in environment.Where(e => e.Key.StartsWith("O2X__Node__SeedNodes", StringComparison.Ordinal)))
        {
            var uri = new Uri(seed.Value);
            services.Should().ContainKey(uri.Host);
            uri.Port.ToString().Should().Be(environment["O2X__Node__Port"]);
        }

        new Uri(environment["O2X__Transports__RabbitMq__Uri"]).Host.Should().Be("rabbitmq");
        new Uri(environment["O2X__Transports__Amqp10__Uri"]).Host.Should().Be("rabbitmq");
        environment["O2X__Transports__Kafka__BootstrapServers"].Should().Be("kafka:9092");
        Environment("kafka")["KAFKA_ADVERTISED_LISTENERS"].Should().Contain("kafka:9092");
        Environment("postgres")["POSTGRES_PASSWORD"].Should().Be(Regex.Match(environment["O2X__Persistence__ConnectionString"], "Password=([^;]+)").Groups[1].Value);
        Environment("rabbitmq")["RABBITMQ_DEFAULT_PASS"].Should().Be(environment["O2X__Transports__RabbitMq__Password"]);
    }

    [Fact]
    public void The_image_health_check_asks_the_readiness_endpoint_on_the_port_compose_publishes()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        var port = Regex.Match(dockerfile, @"ASPNETCORE_URLS=http://\+:(\d+)").Groups[1].Value;

        dockerfile.Should().Contain($"curl -fsS http://localhost:{port}/health/ready");
        dockerfile.Should().MatchRegex(@"(?m)^USER app$", "the node runs as the image's non-root user");
        foreach (var node in new[] { "o2x-1", "o2x-2", "o2x-3" })
        {
            var ports = (List<object>)((Dictionary<object, object>)Services()[node])["ports"];
            ports.Cast<string>().Should().ContainSingle().Which.Should().EndWith(":" + port);
        }
    }
}
