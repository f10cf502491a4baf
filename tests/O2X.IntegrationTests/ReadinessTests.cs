using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>Issue "Cluster operations", done-when: readiness flips to unhealthy when PostgreSQL stops and back when it returns.</summary>
public sealed class ReadinessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Readiness_follows_the_journal_database()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var node = new O2XNodeFactory(new Dictionary<string, string?> { ["O2X:Persistence:ConnectionString"] = postgres.ConnectionString });
        var http = node.CreateClient();
        await Ready(http, HttpStatusCode.OK, "the node starts ready");

        await postgres.StopAsync();
        var down = await Ready(http, HttpStatusCode.ServiceUnavailable, "PostgreSQL stopped");
        var journal = down["checks"]!.AsArray().First(c => c!["name"]!.GetValue<string>() == "journal")!;
        journal["status"]!.GetValue<string>().Should().Be("Unhealthy");
        journal["description"]!.GetValue<string>().Should().StartWith("PostgreSql does not answer").And.NotContain("Password");
        (await http.GetAsync("/health/live")).StatusCode.Should().Be(HttpStatusCode.OK, "the process itself is fine: no restart wanted");

        await postgres.StartAgainAsync();
        await Ready(http, HttpStatusCode.OK, "PostgreSQL is back");
    }

    private static Task<JsonNode> Ready(HttpClient http, HttpStatusCode expected, string because) =>
        Eventually.ReturnsAsync(async () =>
        {
            var response = await http.GetAsync("/health/ready");
            return response.StatusCode == expected ? JsonNode.Parse(await response.Content.ReadAsStringAsync())! : null!;
        }, r => r is not null, Deadline, because);
}
