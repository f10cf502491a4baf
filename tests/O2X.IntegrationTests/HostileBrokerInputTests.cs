using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>
/// Issue "Hostile input and least privilege" through a broker binding (RabbitMQ): refused messages go to the error
/// destination with their code — file locations outside the roots, card numbers (stored nowhere in clear), defects that no
/// retry cures — and none of them opens the breaker or takes the node out of readiness.
/// </summary>
public sealed class HostileBrokerInputTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private readonly TempDirectory _root = new();
    private TransportNode _node = null!;

    public async Task InitializeAsync() =>
        _node = await TransportNode.StartAsync("Amqp091", ["OMS", "MEDIATION"], ["OMS_ERROR", "OMS_ARCHIVE", "MEDIATION_ERROR"], _data.File("o2x.db"),
            new Dictionary<string, string?>
            {
                ["O2X:Usage:Files:Roots:0"] = _root.Path,
                ["O2X:Bindings:MEDIATION:CircuitBreaker:MaxFailures"] = "2",
                ["O2X:Bindings:OMS:CircuitBreaker:MaxFailures"] = "2",
            });

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _data.Dispose();
        _root.Dispose();
    }

    [Fact]
    public async Task Refused_broker_messages_reach_the_error_destination_with_their_code_and_no_card_number()
    {
        var header = "record_id,calling_number,called_number,start_time,duration_seconds,account_id,cell_id\n";
        await File.WriteAllTextAsync(_root.File("long.csv"), header + new string('9', 70_000) + "\n");
        var account = JsonNode.Parse(HttpJson.SeedSample("oms/account-update.json"))!.AsObject();
        account["updates"]!["payment_method"]!["token"] = "4111-1111-1111-1111";

        await _node.Driver.SendAsync("MEDIATION", Mediation("file:///etc/passwd"), "m-passwd");
        await _node.Driver.SendAsync("MEDIATION", Mediation("/proc/self/environ"), "m-environ");
        for (var i = 0; i < 3; i++) await _node.Driver.SendAsync("MEDIATION", Mediation("long.csv"), $"m-long-{i}");
        await _node.Driver.SendAsync("OMS", account.ToJsonString(), "o-pan");

        var mediationErrors = await Eventually.ReturnsAsync(() => _node.Driver.ReadAsync("MEDIATION_ERROR"), e => e.Count >= 5, TimeSpan.FromSeconds(60),
            "every refused MEDIATION message in its error destination");
        var codes = mediationErrors.Select(e => JsonNode.Parse(e.Body)!).ToDictionary(e => e["messageId"]!.GetValue<string>(), e => e["errorCode"]!.GetValue<string>());
        codes["m-passwd"].Should().Be("LOCATION_NOT_ALLOWED");
        codes["m-environ"].Should().Be("LOCATION_NOT_ALLOWED");
        codes.Where(c => c.Key.StartsWith("m-long-", StringComparison.Ordinal)).Should().OnlyContain(c => c.Value == "INVALID_MESSAGE");

        var omsError = await Eventually.ReturnsAsync(() => _node.Driver.ReadAsync("OMS_ERROR"), e => e.Count >= 1, TimeSpan.FromSeconds(60), "the card refusal");
        var envelope = JsonNode.Parse(omsError.Single().Body)!;
        envelope["errorCode"]!.GetValue<string>().Should().Be("CARD_NUMBER_NOT_ALLOWED");
        CarriesTheCard(omsError.Single().Body).Should().BeFalse(omsError.Single().Body);
        var archive = await Eventually.ReturnsAsync(() => _node.Driver.ReadAsync("OMS_ARCHIVE"), e => e.Count >= 1, TimeSpan.FromSeconds(60), "the archive copy");
        archive.Should().OnlyContain(a => !CarriesTheCard(a.Body));

        var ready = await _node.Http.GetAsync("/health/ready");
        ready.StatusCode.Should().Be(HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
        (await _node.Http.GetStringAsync("/api/deadletters")).Should().NotContain("m-long", "a defect is refused at once, never retried into a dead letter");
    }

    /// <summary>
    /// Whether <paramref name="body"/> carries the test's card number or a piece of it with its separator. Not any "1111": the
    /// envelope's timestamp has seven fractional digits, and one run failed on "02:29:31.4631111".
    /// </summary>
    private static bool CarriesTheCard(string body) =>
        body.Contains("1111-1111", StringComparison.Ordinal) || body.Contains("4111111111111111", StringComparison.Ordinal) ||
        body.Contains("1111 1111", StringComparison.Ordinal);

    private static string Mediation(string location)
    {
        var message = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        message["file_location"] = location;
        return message.ToJsonString();
    }
}
