using System.Net;
using System.Text.Json.Nodes;
using O2X.Actors.Messaging;
using O2X.Host.Testing;

namespace O2X.Host.Tests;

/// <summary>Seed §4.1/§6.1/§6.2 end to end on the embedded transport, with the seed's messages verbatim.</summary>
public sealed class OrderToCashTests : IAsyncLifetime
{
    private readonly O2XNodeFactory _node = new();
    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _http = _node.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static string Order => HttpJson.SeedSample("oms/order-new.json");
    private static string SecondOrder => Order.Replace("SF-ORD-20240211-12345", "SF-ORD-20240211-12346");
    private static string Completed => HttpJson.SeedSample("provisioning/response-completed.json");
    private static string Failed => HttpJson.SeedSample("provisioning/response-failed.json");

    [Fact]
    public async Task The_seed_order_goes_through_provisioning_billing_and_invoicing()
    {
        (await Post("OMS", Order)).Should().Be(HttpStatusCode.Accepted);
        (await Post("OMS", SecondOrder)).Should().Be(HttpStatusCode.Accepted);

        var completed = await _http.PostMessageAsync("PROVISIONING_RESPONSE", Completed);
        var failed = await _http.PostMessageAsync("PROVISIONING_RESPONSE", Failed);

        completed.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await completed.ReadJson())["result"]!["invoice_number"]!.GetValue<string>().Should().Be("INV-ACC-1001-0001");
        failed.StatusCode.Should().Be(HttpStatusCode.Accepted);

        var order = await Get("/api/orders/ORD-20240211-001");
        order["status"]!.GetValue<string>().Should().Be("INVOICED");
        order["provisioning"]!["network_details"]!["olt"]!.GetValue<string>().Should().Be("OLT-ZONE1-01");
        order["timeline"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).Should()
            .Equal("RECEIVED", "PROVISIONING", "COMPLETED", "BILLED", "INVOICED");
        order["timeline"]!.AsArray().Should().OnlyContain(t => t!["at"] != null);

        var second = await Get("/api/orders/ORD-20240211-002");
        second["status"]!.GetValue<string>().Should().Be("FAILED");
        second["provisioning_failure"]!["error"]!["code"]!.GetValue<string>().Should().Be("PORT_UNAVAILABLE");
        second["provisioning_failure"]!["retry_recommended"]!.GetValue<bool>().Should().BeFalse();

        var account = await Get("/api/accounts/ACC-1001");
        account["subscriptions"]!.AsArray().Should().ContainSingle().Which!["status"]!.GetValue<string>().Should().Be("ACTIVE");
        account["charges"]!.AsArray().Select(c => c!["amount"]!.GetValue<decimal>()).Should().Equal(99.00m, 50.00m);
        account["balances"]![0]!["amount"]!.GetValue<decimal>().Should().Be(149.00m);
        account["pending_changes"]!.AsObject().Should().BeEmpty("the failed order's changes were abandoned");

        var invoice = await Get("/api/accounts/ACC-1001/invoices/1");
        invoice["invoice_number"]!.GetValue<string>().Should().Be("INV-ACC-1001-0001");
        invoice["total"]!.GetValue<decimal>().Should().Be(149.00m);
        invoice["currency"]!.GetValue<string>().Should().Be("USD");
        invoice["due_date"]!.GetValue<string>().Should().Be("2024-03-12");
        invoice["lines"]!.AsArray().Should().HaveCount(2);
        (await _http.GetAsync("/api/accounts/ACC-1001/invoices/INV-ACC-1001-0001")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _http.GetAsync("/api/accounts/ACC-1001/invoices/2")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var responses = await _http.OutboxAtLeastAsync("OMS_RESPONSE", 5);
        responses.Select(r => r["payload"]!["status"]!.GetValue<string>()).Should().BeEquivalentTo(["RECEIVED", "RECEIVED", "COMPLETED", "INVOICED", "FAILED"]);
        (await _http.OutboxAtLeastAsync("PROVISIONING_REQUEST", 2)).Select(r => r["payload"]!["order_id"]!.GetValue<string>())
            .Should().BeEquivalentTo(["ORD-20240211-001", "ORD-20240211-002"]);
        (await _http.OutboxAtLeastAsync("OMS_ARCHIVE", 2)).Should().HaveCount(2);
    }

    [Fact]
    public async Task A_callback_delivered_twice_or_resent_bills_once()
    {
        await Post("OMS", Order);

        var first = await _http.PostMessageAsync("PROVISIONING_RESPONSE", Completed, "callback-1");
        var redelivered = await _http.PostMessageAsync("PROVISIONING_RESPONSE", Completed, "callback-1");
        var resent = await _http.PostMessageAsync("PROVISIONING_RESPONSE", Completed, "callback-1-resent");

        (await first.ReadJson())["status"]!.GetValue<string>().Should().Be("processed");
        (await redelivered.ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        (await resent.ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate", "same provisioning_id: the same business fact");
        var account = await Get("/api/accounts/ACC-1001");
        account["charges"]!.AsArray().Should().HaveCount(2);
        account["invoices"]!.AsArray().Should().ContainSingle();
    }

    [Fact]
    public async Task An_order_awaiting_provisioning_can_be_cancelled_and_then_refuses_callbacks()
    {
        await Post("OMS", Order);
        var cancel = JsonNode.Parse(Order)!.AsObject();
        cancel["order_type"] = "CANCEL";
        cancel["order_id"] = "ORD-20240211-001";
        cancel["services"] = new JsonArray();

        (await Post("OMS", cancel.ToJsonString())).Should().Be(HttpStatusCode.Accepted);
        var callback = await _http.PostMessageAsync("PROVISIONING_RESPONSE", Completed);

        (await Get("/api/orders/ORD-20240211-001"))["status"]!.GetValue<string>().Should().Be("CANCELLED");
        (await Get("/api/accounts/ACC-1001"))["pending_changes"]!.AsObject().Should().BeEmpty();
        await ShouldBeRefused(callback, HttpStatusCode.UnprocessableEntity, ErrorCodes.InvalidStateTransition);
    }

    [Fact]
    public async Task A_modify_order_adds_a_product_once_completed()
    {
        await Post("OMS", Order);
        await _http.PostMessageAsync("PROVISIONING_RESPONSE", Completed);
        var modify = JsonNode.Parse(Order)!.AsObject();
        modify["order_type"] = "MODIFY";
        modify["correlation_id"] = "SF-ORD-20240211-20000";
        modify["services"]![0]!["product_code"] = "STATIC_IP";
        modify["services"]![0]!["pricing"]!["monthly_recurring_charge"] = 5.00m;
        modify["services"]![0]!["pricing"]!["one_time_charge"] = 0m;

        var placed = await (await _http.PostMessageAsync("OMS", modify.ToJsonString())).ReadJson();
        var orderId = placed["result"]!["order_id"]!.GetValue<string>();
        var callback = JsonNode.Parse(Completed)!.AsObject();
        callback["order_id"] = orderId;
        callback["provisioning_id"] = "PROV-20000";
        (await Post("PROVISIONING_RESPONSE", callback.ToJsonString())).Should().Be(HttpStatusCode.Accepted);

        var account = await Get("/api/accounts/ACC-1001");
        account["subscriptions"]!.AsArray().Select(s => s!["product_code"]!.GetValue<string>()).Should().BeEquivalentTo(["INTERNET_100", "STATIC_IP"]);
        account["invoices"]!.AsArray().Should().HaveCount(2);
        account["balances"]![0]!["amount"]!.GetValue<decimal>().Should().Be(154.00m);
    }

    public static TheoryData<string, string, HttpStatusCode, string> RefusedMessages()
    {
        var order = Order;
        JsonObject Edit(Action<JsonObject> change)
        {
            var node = JsonNode.Parse(order)!.AsObject();
            change(node);
            return node;
        }

        return new()
        {
            { "OMS", "{\"object_type\": \"ORDER\", \"account_id\": ", HttpStatusCode.BadRequest, ErrorCodes.InvalidMessage },
            { "OMS", Edit(o => o.Remove("submission_timestamp")).ToJsonString(), HttpStatusCode.BadRequest, ErrorCodes.MissingField },
            { "OMS", Edit(o => o["services"]![0]!["quantity"] = -1).ToJsonString(), HttpStatusCode.BadRequest, ErrorCodes.InvalidField },
            { "OMS", Edit(o => o["services"]![0]!["product_code"] = "TELEPORT_9000").ToJsonString(), HttpStatusCode.UnprocessableEntity, ErrorCodes.InvalidProduct },
            { "OMS", HttpJson.SeedSample("oms/account-update.json").Replace("ACC-1001", "ACC-9999"), HttpStatusCode.UnprocessableEntity, ErrorCodes.AccountNotFound },
            { "OMS", Edit(o => o["order_type"] = "MODIFY").ToJsonString().Replace("ACC-1001", "ACC-9998"), HttpStatusCode.UnprocessableEntity, ErrorCodes.AccountNotFound },
            { "OMS", HttpJson.SeedSample("oms/account-update.json").Replace("tok_visa_1234", "4111 1111 1111 1111"), HttpStatusCode.BadRequest, ErrorCodes.CardNumberNotAllowed },
            { "PROVISIONING_RESPONSE", Completed.Replace("ORD-20240211-001", "ORD-20240211-777"), HttpStatusCode.UnprocessableEntity, ErrorCodes.OrderNotFound },
            { "MCM_BILLING_OMS_RESPONSE", "[]", HttpStatusCode.BadRequest, ErrorCodes.InvalidMessage },
        };
    }

    [Theory]
    [MemberData(nameof(RefusedMessages))]
    public async Task Refused_messages_get_a_problem_and_an_oms_error_envelope_with_their_code(string queue, string body, HttpStatusCode status, string code)
    {
        var response = await _http.PostMessageAsync(queue, body, "refused-1");

        await ShouldBeRefused(response, status, code);
        var error = (await _http.OutboxAtLeastAsync("OMS_ERROR", 1)).Single()["payload"]!;
        error["errorCode"]!.GetValue<string>().Should().Be(code);
        if (code == ErrorCodes.CardNumberNotAllowed)
            error["originalMessage"]!.GetValue<string>().Should().Contain("sha256").And.NotContain("4111", "a card number is never kept");
        else
            error["originalMessage"]!.GetValue<string>().Should().Be(body);
        error["queue"]!.GetValue<string>().Should().Be(queue);
        error["messageId"]!.GetValue<string>().Should().Be("refused-1");
        error["errorMessage"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
        error["timestamp"].Should().NotBeNull();
    }

    [Fact]
    public async Task A_different_order_under_an_existing_order_id_is_a_duplicate_order()
    {
        await Post("OMS", Order);
        var clash = JsonNode.Parse(SecondOrder)!.AsObject();
        clash["order_id"] = "ORD-20240211-001";

        await ShouldBeRefused(await _http.PostMessageAsync("OMS", clash.ToJsonString()), HttpStatusCode.UnprocessableEntity, ErrorCodes.DuplicateOrder);
    }

    [Fact]
    public async Task A_second_completion_with_another_provisioning_id_is_an_invalid_state_transition()
    {
        await Post("OMS", Order);
        await Post("PROVISIONING_RESPONSE", Completed);

        var other = await _http.PostMessageAsync("PROVISIONING_RESPONSE", Completed.Replace("PROV-12345", "PROV-99999"));

        await ShouldBeRefused(other, HttpStatusCode.UnprocessableEntity, ErrorCodes.InvalidStateTransition);
    }

    [Fact]
    public async Task A_redelivered_refused_message_is_recorded_in_the_error_queue_once()
    {
        await _http.PostMessageAsync("OMS", "not json", "poison-1");
        await _http.PostMessageAsync("OMS", "not json", "poison-1");
        await _http.PostMessageAsync("OMS", "{}", "other-1");

        var errors = await _http.OutboxAtLeastAsync("OMS_ERROR", 2);

        errors.Select(e => e["payload"]!["messageId"]!.GetValue<string>()).Should().BeEquivalentTo(["poison-1", "other-1"]);
    }

    [Fact]
    public async Task The_outbox_api_pages_and_knows_its_destinations()
    {
        await Post("OMS", Order);
        await Post("OMS", SecondOrder);
        await _http.OutboxAtLeastAsync("OMS_ARCHIVE", 2);

        var first = await Get("/api/outbox/OMS_ARCHIVE?limit=1");
        var next = await Get($"/api/outbox/OMS_ARCHIVE?limit=1&after={first["next_after"]}");

        first["items"]!.AsArray().Should().ContainSingle();
        next["items"]!.AsArray().Should().ContainSingle();
        next["items"]![0]!["message_id"]!.GetValue<string>().Should().NotBe(first["items"]![0]!["message_id"]!.GetValue<string>());
        (await _http.GetAsync("/api/outbox/NOWHERE")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _http.GetAsync("/api/outbox/OMS_ARCHIVE?limit=0")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    private async Task<HttpStatusCode> Post(string queue, string body) => (await _http.PostMessageAsync(queue, body)).StatusCode;

    private async Task<JsonNode> Get(string url)
    {
        var response = await _http.GetAsync(url);
        response.StatusCode.Should().Be(HttpStatusCode.OK, url);
        return await response.ReadJson();
    }

    private static async Task ShouldBeRefused(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        response.StatusCode.Should().Be(status);
        (await response.ReadJson())["error_code"]!.GetValue<string>().Should().Be(code);
    }
}
