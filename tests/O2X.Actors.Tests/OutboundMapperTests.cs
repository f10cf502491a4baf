using System.Text.Json;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Messaging.Outbox;
using O2X.Actors.Messaging.Rejections;
using O2X.Actors.Orders;
using static O2X.Actors.Tests.TestData;

namespace O2X.Actors.Tests;

public class OutboundMapperTests
{
    private static readonly string SeedOrder = SeedSamples.Text("oms/order-new.json");

    [Fact]
    public void A_received_order_is_archived_verbatim_and_answered_on_oms_response()
    {
        var received = new OrderReceived("ORD-20240211-001", Intake("m1", "SF-ORD-20240211-12345", body: SeedOrder), Details("SF-ORD-20240211-12345"), At);

        var messages = OutboundMapper.Map(received, "order-ORD-20240211-001", 1);

        messages.Select(m => m.Destination).Should().Equal(Destinations.OmsArchive, Destinations.OmsResponse);
        messages[0].Payload.Should().Be(SeedOrder, "the archive is a copy of what was received");
        messages[0].Headers["x-o2x-source-message-id"].Should().Be("m1");
        var response = JsonDocument.Parse(messages[1].Payload).RootElement;
        response.GetProperty("order_id").GetString().Should().Be("ORD-20240211-001");
        response.GetProperty("status").GetString().Should().Be("RECEIVED");
        response.GetProperty("correlation_id").GetString().Should().Be("SF-ORD-20240211-12345");
        response.GetProperty("errors").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public void Message_ids_come_from_the_event_so_a_replay_produces_the_same_ids()
    {
        var received = new OrderReceived("ORD-1", Intake("m1"), Details(), At);

        var first = OutboundMapper.Map(received, "order-ORD-1", 7).Select(m => m.MessageId);
        var replay = OutboundMapper.Map(received, "order-ORD-1", 7).Select(m => m.MessageId);

        first.Should().Equal(replay).And.Equal("arc-order-ORD-1-7", "rsp-order-ORD-1-7");
    }

    [Fact]
    public void A_provisioning_request_lists_what_to_provision()
    {
        var requested = new ProvisioningRequested("ORD-1", "m1", "PRQ-ORD-1", "ACC-1001", OrderType.New, [Line()], "SF-1", At);

        var message = OutboundMapper.Map(requested, "order-ORD-1", 2).Should().ContainSingle().Subject;

        message.Destination.Should().Be(Destinations.ProvisioningRequest);
        var body = JsonDocument.Parse(message.Payload).RootElement;
        body.GetProperty("provisioning_request_id").GetString().Should().Be("PRQ-ORD-1");
        body.GetProperty("services")[0].GetProperty("product_code").GetString().Should().Be("INTERNET_100");
        body.GetProperty("services")[0].GetProperty("action").GetString().Should().Be("ADD");
    }

    [Fact]
    public void A_rejected_oms_message_gives_the_seed_error_envelope_an_archive_copy_and_a_rejected_response()
    {
        var rejected = new MessageRejected("OMS-3", Intake("m9", "SF-9", body: "{\"bad"), Destinations.OmsError, ErrorCodes.InvalidMessage, "not JSON", At);

        var messages = OutboundMapper.Map(rejected, "rejections-OMS-3", 4);

        messages.Select(m => m.Destination).Should().BeEquivalentTo([Destinations.OmsArchive, Destinations.OmsError, Destinations.OmsResponse]);
        var envelope = JsonDocument.Parse(messages.Single(m => m.Destination == Destinations.OmsError).Payload).RootElement;
        envelope.GetProperty("originalMessage").GetString().Should().Be("{\"bad");
        envelope.GetProperty("errorMessage").GetString().Should().Be("not JSON");
        envelope.GetProperty("errorCode").GetString().Should().Be("INVALID_MESSAGE");
        envelope.GetProperty("timestamp").GetDateTimeOffset().Should().Be(At);
        envelope.GetProperty("queue").GetString().Should().Be("OMS");
        envelope.GetProperty("messageId").GetString().Should().Be("m9");
        envelope.GetProperty("correlationId").GetString().Should().Be("SF-9");
    }

    [Fact]
    public void A_rejected_callback_goes_to_its_error_destination_without_archive()
    {
        var rejected = new MessageRejected("PROVISIONING_RESPONSE-1", Intake("cb", null, "PROVISIONING_RESPONSE"), Destinations.OmsError,
            ErrorCodes.OrderNotFound, "Order ORD-X does not exist.", At);

        OutboundMapper.Map(rejected, "rejections-PROVISIONING_RESPONSE-1", 1).Should().ContainSingle()
            .Which.Destination.Should().Be(Destinations.OmsError);
    }

    [Fact]
    public void Internal_events_produce_nothing_and_are_not_tagged()
    {
        var opened = new AccountOpened("ACC-1", "m1", null, At);

        OutboundMapper.Produces(opened).Should().BeFalse();
        OutboundMapper.Map(opened, "account-ACC-1", 1).Should().BeEmpty();
        new OutboxTagger().ToJournal(opened).Should().BeSameAs(opened);
        new OutboxTagger().ToJournal(new OrderReceived("ORD-1", Intake("m1"), Details(), At)).Should().BeOfType<Akka.Persistence.Journal.Tagged>();
    }
}
