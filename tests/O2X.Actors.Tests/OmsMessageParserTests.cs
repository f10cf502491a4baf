using System.Text;
using System.Text.Json.Nodes;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;

namespace O2X.Actors.Tests;

public class OmsMessageParserTests
{
    [Fact]
    public void The_seed_order_parses_with_every_field()
    {
        var message = OmsMessageParser.Parse(SeedSamples.Read("oms/order-new.json"));

        var order = message.Should().BeOfType<OmsMessage.Order>().Subject;
        order.OrderId.Should().BeNull("the seed order carries no order id; O2X assigns one");
        var d = order.Details;
        d.AccountId.Should().Be("ACC-1001");
        d.UserId.Should().Be("USR-501");
        d.OrderType.Should().Be(OrderType.New);
        d.SubmittedAt.Should().Be(new DateTimeOffset(2024, 2, 11, 10, 45, 0, TimeSpan.Zero));
        d.SourceSystem.Should().Be("Salesforce");
        d.CorrelationId.Should().Be("SF-ORD-20240211-12345");
        var line = d.Services.Should().ContainSingle().Subject;
        line.Action.Should().Be(ServiceAction.Add);
        line.ProductCode.Should().Be("INTERNET_100");
        line.Quantity.Should().Be(1);
        line.Pricing.Should().Be(new Pricing(50.00m, 99.00m, "USD"));
        line.Customization!.Value.GetProperty("ont_serial").GetString().Should().Be("ONT123456");
        d.ExtendedData!.Value.GetProperty("campaign_code").GetString().Should().Be("PROMO2024");
    }

    [Fact]
    public void The_seed_account_update_parses()
    {
        var message = OmsMessageParser.Parse(SeedSamples.Read("oms/account-update.json"));

        var update = message.Should().BeOfType<OmsMessage.AccountUpdate>().Subject;
        update.AccountId.Should().Be("ACC-1001");
        update.BillingAddress!.City.Should().Be("Guadalajara");
        update.PaymentMethod.Should().Be(new Accounts.PaymentMethod("CREDIT_CARD", "tok_visa_1234", true));
    }

    [Theory]
    [InlineData("{\"object_type\": \"ORDER\", ", ErrorCodes.InvalidMessage)]
    [InlineData("[1,2,3]", ErrorCodes.InvalidMessage)]
    [InlineData("\"ORDER\"", ErrorCodes.InvalidMessage)]
    public void Bodies_that_are_not_a_json_object_are_invalid_messages(string body, string code)
    {
        Refusal(Encoding.UTF8.GetBytes(body)).ErrorCode.Should().Be(code);
    }

    [Fact]
    public void Invalid_utf8_is_an_invalid_message()
    {
        Refusal([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]).ErrorCode.Should().Be(ErrorCodes.InvalidMessage);
    }

    [Theory]
    [InlineData("account_id", "account_id")]
    [InlineData("order_type", "order_type")]
    [InlineData("submission_timestamp", "submission_timestamp")]
    [InlineData("services", "services")]
    [InlineData("object_type", "object_type")]
    public void A_missing_required_field_is_named(string field, string path)
    {
        var order = SeedOrder();
        order.Remove(field);

        var refusal = Refusal(order);

        refusal.ErrorCode.Should().Be(ErrorCodes.MissingField);
        refusal.Details["field"].Should().Be(path);
    }

    [Theory]
    [InlineData("order_type", "\"UPGRADE\"", "order_type")]
    [InlineData("account_id", "\"ACC 1001\"", "account_id")]
    [InlineData("account_id", "1001", "account_id")]
    [InlineData("submission_timestamp", "\"yesterday\"", "submission_timestamp")]
    [InlineData("object_type", "\"INVOICE\"", "object_type")]
    public void A_field_with_a_wrong_value_or_type_is_named(string field, string json, string path)
    {
        var order = SeedOrder();
        order[field] = JsonNode.Parse(json);

        var refusal = Refusal(order);

        refusal.ErrorCode.Should().Be(ErrorCodes.InvalidField);
        refusal.Details["field"].Should().Be(path);
    }

    [Theory]
    [InlineData("quantity", "0", "services[0].quantity")]
    [InlineData("quantity", "1.5", "services[0].quantity")]
    [InlineData("action", "\"UPSERT\"", "services[0].action")]
    public void Service_line_errors_carry_their_index(string field, string json, string path)
    {
        var order = SeedOrder();
        order["services"]![0]![field] = JsonNode.Parse(json);

        Refusal(order).Details["field"].Should().Be(path);
    }

    [Theory]
    [InlineData("currency", "\"usd\"", "services[0].pricing.currency")]
    [InlineData("currency", "\"XYZ\"", "services[0].pricing.currency")]
    [InlineData("one_time_charge", "-1", "services[0].pricing.one_time_charge")]
    [InlineData("monthly_recurring_charge", "\"50\"", "services[0].pricing.monthly_recurring_charge")]
    public void Prices_need_an_iso_currency_and_non_negative_amounts(string field, string json, string path)
    {
        var order = SeedOrder();
        order["services"]![0]!["pricing"]![field] = JsonNode.Parse(json);

        var refusal = Refusal(order);

        refusal.ErrorCode.Should().Be(ErrorCodes.InvalidField);
        refusal.Details["field"].Should().Be(path);
    }

    [Fact]
    public void An_impossible_installation_date_is_refused()
    {
        var order = SeedOrder();
        order["services"]![0]!["customization"]!["installation_date"] = "2024-02-30";

        Refusal(order).Details["field"].Should().Be("services[0].customization.installation_date");
    }

    [Fact]
    public void One_order_has_one_currency()
    {
        var order = SeedOrder();
        var second = JsonNode.Parse(order["services"]![0]!.ToJsonString())!;
        second["pricing"]!["currency"] = "MXN";
        order["services"]!.AsArray().Add(second);

        var refusal = Refusal(order);

        refusal.ErrorCode.Should().Be(ErrorCodes.InvalidField);
        refusal.Details["field"].Should().Be("services[1].pricing.currency");
    }

    [Fact]
    public void A_cancel_names_the_order_it_cancels()
    {
        var cancel = SeedOrder();
        cancel["order_type"] = "CANCEL";
        cancel["services"] = new JsonArray();

        Refusal(cancel).Details["field"].Should().Be("order_id");
        cancel["order_id"] = "ORD-20240211-001";
        OmsMessageParser.Parse(Encoding.UTF8.GetBytes(cancel.ToJsonString())).Should().BeOfType<OmsMessage.Order>()
            .Which.OrderId.Should().Be("ORD-20240211-001");
    }

    [Fact]
    public void Comments_in_a_message_are_ignored()
    {
        var text = SeedSamples.Text("oms/order-new.json").Replace("\"services\": [", "\"services\": [ // what to add\n");

        OmsMessageParser.Parse(Encoding.UTF8.GetBytes(text)).Should().BeOfType<OmsMessage.Order>();
    }

    private static JsonObject SeedOrder() => JsonNode.Parse(SeedSamples.Text("oms/order-new.json"))!.AsObject();

    private static NonRetryableException Refusal(JsonObject message) => Refusal(Encoding.UTF8.GetBytes(message.ToJsonString()));

    private static NonRetryableException Refusal(byte[] body)
    {
        var act = () => OmsMessageParser.Parse(body);
        return act.Should().Throw<NonRetryableException>().Which;
    }
}
