using System.Text;
using System.Text.Json.Nodes;
using O2X.Actors.Accounts;
using O2X.Actors.Bulk;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public class BulkMessagesTests
{
    [Fact]
    public void The_seed_bulk_message_reads_verbatim()
    {
        var message = BulkMessages.Parse(SeedSamples.Read("bulk/regenerate-invoice.json"));

        message.Job.Should().Be(new BulkJobDefinition("BULK-2024-02-11-005", BulkApiName.RegenerateInvoice, 2, "admin@embrix.com",
            DateTimeOffset.Parse("2024-02-11T15:30:00Z"), "https://api.embrix.com/bulk/status/BULK-2024-02-11-005"));
        message.Offset.Should().Be(0);
        message.Items.Should().Equal(
            new BulkItem(0, "ACC-1001", new BulkOperation(BulkApiName.RegenerateInvoice, "INV-2024-001", null, null, null, "Tax calculation correction", null), null, null),
            new BulkItem(1, "ACC-1002", new BulkOperation(BulkApiName.RegenerateInvoice, "INV-2024-002", null, null, null, "Tax calculation correction", null), null, null));
    }

    [Fact]
    public void The_seed_section_4_3_spelling_reads_too_and_the_account_comes_from_an_o2x_invoice_number()
    {
        var message = Parse("""
            {"id": "BULK-2024-02-11-001", "apiName": "REGENERATE_INVOICE",
             "payloads": [{"invoiceId": "INV-ACC-1001-0001", "reason": "Tax calculation correction"}, {"invoiceId": "INV-2024-002", "reason": "x"}],
             "createdBy": "admin@embrix.com", "initiated_by": "admin@embrix.com", "submission_timestamp": "2024-02-11T14:00:00Z"}
            """);

        message.Job.CreatedBy.Should().Be("admin@embrix.com");
        message.Job.CreatedDate.Should().Be(DateTimeOffset.Parse("2024-02-11T14:00:00Z"));
        message.Items[0].AccountId.Should().Be("ACC-1001");
        message.Items[1].Should().Match<BulkItem>(i => i.Operation == null && i.ErrorCode == ErrorCodes.MissingField && i.Error!.Contains("payloads[1].account_id"));
    }

    [Theory]
    [InlineData("""{"id": "B-1", "api_name": "DELETE_EVERYTHING", "payloads": [{}]}""", ErrorCodes.UnknownApiName)]
    [InlineData("""{"id": "B-1", "payloads": [{}]}""", ErrorCodes.MissingField)]
    [InlineData("""{"id": "B-1", "api_name": "CANCEL_INVOICE", "payloads": []}""", ErrorCodes.EmptyPayloads)]
    [InlineData("""{"id": "B-1", "api_name": "CANCEL_INVOICE"}""", ErrorCodes.EmptyPayloads)]
    [InlineData("""{"id": "B-1", "api_name": "CANCEL_INVOICE", "payloads": {}}""", ErrorCodes.InvalidField)]
    [InlineData("""{"api_name": "CANCEL_INVOICE", "payloads": [{}]}""", ErrorCodes.MissingField)]
    [InlineData("""{"id": "B-1", "api_name": "CANCEL_INVOICE", "payloads": [{}, {}], "total_count": 1}""", ErrorCodes.InvalidField)]
    [InlineData("""{"id": "B-1", "api_name": "CANCEL_INVOICE", "payloads": [{}], "offset": -1}""", ErrorCodes.InvalidField)]
    [InlineData("""[1, 2]""", ErrorCodes.InvalidMessage)]
    public void A_message_that_cannot_be_a_bulk_job_is_refused_as_a_whole(string body, string code)
    {
        var act = () => Parse(body);

        act.Should().Throw<NonRetryableException>().Which.ErrorCode.Should().Be(code);
    }

    [Fact]
    public void More_than_100_items_in_one_message_is_refused()
    {
        var payloads = string.Join(",", Enumerable.Range(0, 101).Select(_ => """{"account_id": "A", "invoice_id": "I", "reason": "r"}"""));

        var act = () => Parse($$"""{"id": "B-1", "api_name": "CANCEL_INVOICE", "payloads": [{{payloads}}]}""");

        act.Should().Throw<NonRetryableException>().Which.ErrorCode.Should().Be(ErrorCodes.TooManyPayloads);
    }

    [Theory]
    [InlineData("""{"account_id": "A", "payment_id": "P", "amount": 0, "currency": "USD"}""", ErrorCodes.InvalidField, "payloads[0].amount")]
    [InlineData("""{"account_id": "A", "payment_id": "P", "amount": "10", "currency": "USD"}""", ErrorCodes.InvalidField, "payloads[0].amount")]
    [InlineData("""{"account_id": "A", "payment_id": "P", "amount": 10.001, "currency": "USD"}""", ErrorCodes.InvalidField, "payloads[0].amount")]
    [InlineData("""{"account_id": "A", "payment_id": "P", "amount": 10, "currency": "XXY"}""", ErrorCodes.InvalidField, "payloads[0].currency")]
    [InlineData("""{"account_id": "A", "amount": 10, "currency": "USD"}""", ErrorCodes.MissingField, "payloads[0].payment_id")]
    [InlineData("""{"account_id": "A B", "payment_id": "P", "amount": 10, "currency": "USD"}""", ErrorCodes.InvalidField, "payloads[0].account_id")]
    [InlineData("""42""", ErrorCodes.InvalidField, "payloads[0]")]
    public void A_malformed_item_fails_on_its_own_with_the_field_named(string item, string code, string field)
    {
        var message = Parse($$"""
            {"id": "B-1", "api_name": "ALLOCATE_PAYMENT",
             "payloads": [{{item}}, {"account_id": "A", "payment_id": "P2", "amount": 12.50, "currency": "USD"}]}
            """);

        message.Items[0].Should().Match<BulkItem>(i => i.Operation == null && i.ErrorCode == code && i.Error!.Contains(field));
        message.Items[1].Operation.Should().Be(new BulkOperation(BulkApiName.AllocatePayment, null, "P2", 12.50m, "USD", null, null));
    }

    [Fact]
    public void A_job_of_250_items_is_split_into_three_messages_that_read_back_as_the_job()
    {
        var job = new BulkJobDefinition("JOB-250", BulkApiName.CreateAdjustment, 250, "ops", DateTimeOffset.Parse("2026-01-01T00:00:00Z"), null);
        var payloads = new JsonArray(Enumerable.Range(0, 250)
            .Select(i => (JsonNode)new JsonObject { ["account_id"] = $"ACC-{i}", ["amount"] = 1.5m, ["currency"] = "USD", ["reason"] = "r" }).ToArray());

        var messages = BulkMessages.Split(job, payloads);

        messages.Select(m => m.MessageId).Should().Equal("JOB-250#1", "JOB-250#2", "JOB-250#3");
        var read = messages.Select(m => BulkMessages.Parse(Encoding.UTF8.GetBytes(m.Body.ToJsonString()))).ToList();
        read.Select(m => (m.Offset, m.Items.Count)).Should().Equal((0, 100), (100, 100), (200, 50));
        read.Should().OnlyContain(m => m.Job == job);
        read.SelectMany(m => m.Items).Select(i => (i.Index, i.AccountId)).Should().Equal(Enumerable.Range(0, 250).Select(i => (i, (string?)$"ACC-{i}")));
    }

    private static BulkMessage Parse(string body) => BulkMessages.Parse(Encoding.UTF8.GetBytes(body));
}
