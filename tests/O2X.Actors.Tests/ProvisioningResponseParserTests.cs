using System.Text;
using System.Text.Json.Nodes;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;

namespace O2X.Actors.Tests;

public class ProvisioningResponseParserTests
{
    [Fact]
    public void The_seed_completed_callback_parses()
    {
        var response = ProvisioningResponseParser.Parse(SeedSamples.Read("provisioning/response-completed.json"));

        response.OrderId.Should().Be("ORD-20240211-001");
        var completed = response.Outcome.Should().BeOfType<ProvisioningOutcome.Completed>().Subject;
        completed.ProvisioningId.Should().Be("PROV-12345");
        completed.Vendor.Should().Be("Nokia");
        completed.VendorReference.Should().Be("NOKIA-ACT-789456");
        completed.CompletedAt.Should().Be(new DateTimeOffset(2024, 2, 11, 11, 30, 0, TimeSpan.Zero));
        completed.NetworkDetails!.Value.GetProperty("vlan").GetInt32().Should().Be(100);
    }

    [Fact]
    public void The_seed_failed_callback_parses_with_the_vendor_error()
    {
        var response = ProvisioningResponseParser.Parse(SeedSamples.Read("provisioning/response-failed.json"));

        var failed = response.Outcome.Should().BeOfType<ProvisioningOutcome.Failed>().Subject;
        response.OrderId.Should().Be("ORD-20240211-002");
        failed.Error.Code.Should().Be("PORT_UNAVAILABLE");
        failed.Error.Message.Should().Be("No available ports on OLT-ZONE2-03");
        failed.Error.Details!.Value.GetProperty("requested_port").GetString().Should().Be("1/1/8");
        failed.RetryRecommended.Should().BeFalse();
    }

    [Theory]
    [InlineData("response-completed.json", "order_id", null, ErrorCodes.MissingField)]
    [InlineData("response-completed.json", "completion_timestamp", null, ErrorCodes.MissingField)]
    [InlineData("response-completed.json", "status", "\"IN_PROGRESS\"", ErrorCodes.InvalidField)]
    [InlineData("response-failed.json", "error", null, ErrorCodes.MissingField)]
    [InlineData("response-failed.json", "retry_recommended", "\"no\"", ErrorCodes.InvalidField)]
    public void Bad_callbacks_are_refused_with_a_code(string sample, string field, string? json, string code)
    {
        var message = JsonNode.Parse(SeedSamples.Text("provisioning/" + sample))!.AsObject();
        if (json is null) message.Remove(field);
        else message[field] = JsonNode.Parse(json);

        var act = () => ProvisioningResponseParser.Parse(Encoding.UTF8.GetBytes(message.ToJsonString()));

        act.Should().Throw<NonRetryableException>().Which.ErrorCode.Should().Be(code);
    }
}
