using System.Text;
using System.Text.Json.Nodes;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public class CardNumberDetectorTests
{
    [Theory]
    [InlineData("4111111111111111")]
    [InlineData("card 4111 1111 1111 1111 exp 12/29")]
    [InlineData("6011-1111-1111-1117")]
    [InlineData("4222222222222")]
    [InlineData("4111.1111.1111.1111")]
    [InlineData("4111  1111  1111  1111")]
    [InlineData("4111 - 1111 - 1111 - 1111")]
    [InlineData("4111/1111/1111/1111")]
    [InlineData("4111_1111_1111_1111")]
    [InlineData("4111\u00a01111\u00a01111\u00a01111")] // no-break spaces
    [InlineData("4111\u20131111\u20131111\u20131111")] // en dashes
    [InlineData("\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11")] // full-width digits
    [InlineData("\u0664\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661")] // Arabic-Indic digits
    [InlineData("3782 822463 10005")] // Amex 4-6-5
    [InlineData("5500 0000 0000 0004")]
    [InlineData("2223000048400011")] // Mastercard 2-series
    [InlineData("4111 1111 1111 1111 12/29")] // followed by an expiry date
    [InlineData("ref 00 4111 1111 1111 1111")] // behind other digit groups
    public void Finds_numbers_that_look_like_cards(string text) =>
        CardNumberDetector.ContainsCardNumber(text).Should().BeTrue();

    [Theory]
    [InlineData("tok_visa_1234")]
    [InlineData("4111111111111112")] // fails the Luhn check
    [InlineData("+52 55 1234 5678")] // a phone number
    [InlineData("41111111111111111111")] // 20 unbroken digits: not a PAN
    [InlineData("1111111111111117")] // no card scheme starts with 1
    [InlineData("9111111111111113")] // nor with 9
    [InlineData("ONT123456")]
    [InlineData("2024-02-11T10:45:00Z")]
    [InlineData("2024-02-11 10:45:00.1234567")]
    [InlineData("")]
    public void Leaves_other_numbers_alone(string text) =>
        CardNumberDetector.ContainsCardNumber(text).Should().BeFalse();

    [Theory]
    [InlineData("""{"a":{"b":"4111 1111 1111 1111"}}""", "a.b")]
    [InlineData("""{"a":[1,{"b":4111111111111111}]}""", "a[1].b")]
    [InlineData("""{"a":4.111111111111111E15}""", "a")]
    [InlineData("""{"a":"\u0034\u0031\u0031\u0031\u0031\u0031\u0031\u0031\u0031\u0031\u0031\u0031\u0031\u0031\u0031\u0031"}""", "a")] // JSON escapes
    [InlineData("""{"a":["4111","1111","1111","1111"]}""", "a")]
    [InlineData("""{"a":[4111,1111,1111,1111]}""", "a")]
    [InlineData("""{"a":[3782,822463,10005]}""", "a")]
    [InlineData("""{"4111111111111111":"x"}""", "(a property name)")]
    [InlineData("""{"a":"x","a":"4111111111111111"}""", "a")] // the second of two duplicate keys
    [InlineData("""{"x":[{"y":["4111","1111","1111","1111"]}]}""", "x[0].y")] // split, deep in arrays and objects
    [InlineData("""{"a":{"b":{"4111 1111 1111 1111":1}}}""", "a.b.(a property name)")]
    [InlineData("""{"a":{"b\u0034111111111111111":1}}""", "a.(a property name)")] // an escape in a property name
    [InlineData("""{"note":"card 4111 1111 1111 1111, thanks"}""", "note")]
    [InlineData("""{"n":"4111 - 1111 - 1111 - 1111"}""", "n")]
    [InlineData("""{"a":["4111-1111","1111-1111"]}""", "a")]
    [InlineData("""{"a":43e11}""", "a")] // 4300000000000: 13 digits only once the exponent is applied
    [InlineData("not json 4111111111111111", "body")]
    public void Finds_card_numbers_anywhere_in_a_message(string json, string path) =>
        CardData.Find(Encoding.UTF8.GetBytes(json)).Should().Be(path);

    [Theory]
    [InlineData("{\"a\":\"4111111111111111\"} trailing 4111 1111 1111 1111", "body")] // JSON and then more: searched as text
    [InlineData("{\"a\":\"x\"}\n// 4111111111111111\n", null)] // a comment is not part of any value
    [InlineData("  [\"4111\",\"1111\",\"1111\",\"1111\"]  ", "$")]
    public void Reads_the_bytes_as_the_json_they_are(string body, string? path) =>
        CardData.Find(Encoding.UTF8.GetBytes(body)).Should().Be(path);

    [Fact]
    public void Invalid_utf8_is_searched_as_the_text_it_decodes_to()
    {
        var body = Encoding.UTF8.GetBytes("{\"a\":\"4111111111111111\",\"b\":\"x\"}");
        body[^3] = 0xFF; // "x" becomes an invalid byte

        CardData.Find(body).Should().Be("a");
    }

    [Fact]
    public void An_envelope_is_judged_by_its_own_body_also_after_a_copy_with_another()
    {
        var withCard = TestData.Envelope("""{"card":"4111 1111 1111 1111"}""");
        var clean = withCard with { Body = Encoding.UTF8.GetBytes("""{"card":"tok_123"}""") };

        CardData.Find(withCard).Should().Be("card");
        CardData.Find(clean).Should().BeNull();
        CardData.Find(withCard with { MessageId = "m2" }).Should().Be("card");
        IntakeRecord.From(withCard).Body.Should().Contain("o2x_redacted").And.NotContain("4111");
    }

    [Theory]
    [InlineData("""{"record_ids":[4111,1111,1111,1111,2000,3000,4000,5000]}""")] // a list of ids, not one number
    [InlineData("""{"record_ids":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}""")]
    [InlineData("""{"amount":1234567.89,"n":[41,11]}""")]
    public void Leaves_lists_and_amounts_alone(string json) =>
        CardData.Find(Encoding.UTF8.GetBytes(json)).Should().BeNull();

    [Theory]
    [InlineData("oms/account-update.json", "updates.payment_method.token")]
    [InlineData("oms/order-new.json", "extended_data.campaign_code")]
    public void The_guard_refuses_a_card_number_in_any_field_without_echoing_it(string sample, string field)
    {
        var message = JsonNode.Parse(SeedSamples.Text(sample))!.AsObject();
        var segments = field.Split('.');
        var parent = segments[..^1].Aggregate((JsonNode)message, (node, name) => node[name]!);
        parent[segments[^1]] = "4111-1111-1111-1111";
        var guard = new CardDataGuard(new NeverCalled());

        var refusal = FluentActions.Invoking(() => guard.Plan(Envelope(message.ToJsonString()))).Should().Throw<NonRetryableException>().Which;

        refusal.ErrorCode.Should().Be(ErrorCodes.CardNumberNotAllowed);
        refusal.Details["field"].Should().Be(field);
        refusal.Message.Should().NotContain("1111", "a card number is never echoed into answers, logs or error queues");
    }

    [Fact]
    public void A_message_with_a_card_number_is_kept_only_as_a_placeholder_with_its_hash()
    {
        var body = Encoding.UTF8.GetBytes("""{"object_type":"ACCOUNT","token":"4111 1111 1111 1111"}""");

        var intake = IntakeRecord.From(Envelope(body));
        var (stored, redacted) = CardData.Redact(body);

        redacted.Should().BeTrue();
        stored.Should().Be(intake.Body);
        intake.Body.Should().NotContain("4111").And.NotContain("1111 1111");
        var placeholder = JsonNode.Parse(intake.Body)!;
        placeholder["field"]!.GetValue<string>().Should().Be("token");
        placeholder["bytes"]!.GetValue<int>().Should().Be(body.Length);
        placeholder["sha256"]!.GetValue<string>().Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)));
        Encoding.UTF8.GetString(CardData.StorableBytes(body)).Should().Be(intake.Body);
    }

    [Fact]
    public void A_message_without_card_data_is_kept_verbatim()
    {
        var body = SeedSamples.Read("oms/order-new.json");

        IntakeRecord.From(Envelope(body)).Body.Should().Be(Encoding.UTF8.GetString(body));
        CardData.StorableBytes(body).Should().Equal(body);
    }

    private static MessageEnvelope Envelope(string body) => Envelope(Encoding.UTF8.GetBytes(body));

    private static MessageEnvelope Envelope(byte[] body) =>
        new("m-1", "OMS", null, MessageEnvelope.NoHeaders, body, 1, DateTimeOffset.UtcNow);

    private sealed class NeverCalled : IMessageHandler
    {
        public HandlingPlan Plan(MessageEnvelope envelope) => throw new InvalidOperationException("the guard let a card number through");
    }
}
