using System.Net;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Streams;
using Microsoft.Extensions.DependencyInjection;
using O2X.Actors.Messaging;
using O2X.Host.Bindings;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;

using O2X.Host.Testing;

namespace O2X.Host.Tests;

public sealed class IngestionApiTests : IAsyncLifetime
{
    private readonly O2XNodeFactory _node = new();
    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _http = _node.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task The_seed_order_is_accepted_once_persisted_and_readable()
    {
        var response = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")));

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        response.Headers.Location!.ToString().Should().Be("/api/orders/ORD-20240211-001");
        var body = await response.ReadJson();
        body["status"]!.GetValue<string>().Should().Be("processed");
        body["message_id"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        body["result"]!["order_id"]!.GetValue<string>().Should().Be("ORD-20240211-001");

        var order = await (await _http.GetAsync("/api/orders/ORD-20240211-001")).ReadJson();
        order["status"]!.GetValue<string>().Should().Be("PROVISIONING");
        order["details"]!["account_id"]!.GetValue<string>().Should().Be("ACC-1001");
        order["details"]!["services"]![0]!["pricing"]!["one_time_charge"]!.GetValue<decimal>().Should().Be(99.00m);
        order["timeline"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).Should().Equal("RECEIVED", "PROVISIONING");

        var account = await _http.GetAsync("/api/accounts/ACC-1001");
        account.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_new_order_is_written_without_starting_its_entity_which_recovers_it_when_next_addressed()
    {
        var system = _node.Services.GetRequiredService<ActorSystem>();
        var orders = _node.Services.GetRequiredService<Akka.Hosting.ActorRegistry>().Get<O2X.Actors.Sharding.OrderRegion>();

        var response = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")));

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await response.ReadJson())["status"]!.GetValue<string>().Should().Be("processed");
        // Nothing else addresses the order here (no provisioning system answers): an entity now would be the placement's own.
        (await LiveEntities(orders)).Should().Be(0, "a new order's first events are written straight into the journal's group commit");
        FreshEntities.For(system).IsMarked("order-ORD-20240211-001").Should().BeFalse("only a placement through the entity marks it");
        // Its outbound messages committed with its events (the outbox in the journal's transaction, SQLite's default): they are
        // there when the answer is, not one projection poll (250 ms) later.
        (await _http.OutboxAsync("OMS_ARCHIVE")).Select(m => m["message_id"]!.GetValue<string>()).Should().Equal("arc-order-ORD-20240211-001-1");
        (await _http.OutboxAsync("PROVISIONING_REQUEST")).Select(m => m["message_id"]!.GetValue<string>()).Should().Equal("prq-order-ORD-20240211-001-2");

        var order = await (await _http.GetAsync("/api/orders/ORD-20240211-001")).ReadJson();
        order["status"]!.GetValue<string>().Should().Be("PROVISIONING");
        order["timeline"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).Should().Equal("RECEIVED", "PROVISIONING");
        (await LiveEntities(orders)).Should().Be(1, "the read started the order's entity, which recovered the events");
    }

    private static async Task<int> LiveEntities(IActorRef region) =>
        (await region.Ask<Akka.Cluster.Sharding.ShardRegionStats>(Akka.Cluster.Sharding.GetShardRegionStats.Instance, TimeSpan.FromSeconds(10)))
        .Stats.Values.Sum();

    [Fact]
    public async Task The_same_idempotency_key_twice_has_one_effect()
    {
        var first = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json"), "key-1"));
        var second = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json"), "key-1"));

        first.StatusCode.Should().Be(HttpStatusCode.Accepted);
        second.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await second.ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        var order = await (await _http.GetAsync("/api/orders/ORD-20240211-001")).ReadJson();
        order["timeline"]!.AsArray().Should().HaveCount(2, "the order was recorded once: RECEIVED, PROVISIONING");
        (await _http.GetAsync("/api/orders/ORD-20240211-002")).StatusCode.Should().Be(HttpStatusCode.NotFound, "no second order was created");
    }

    [Fact]
    public async Task X_Message_Id_is_an_idempotency_key_too()
    {
        var update = HttpJson.SeedSample("oms/account-update.json");
        await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")));

        var requests = Enumerable.Range(0, 2).Select(_ =>
        {
            var r = HttpJson.Post("/api/queues/OMS/messages", update);
            r.Headers.Add("X-Message-Id", "update-1");
            return r;
        }).ToArray();
        var first = await (await _http.SendAsync(requests[0])).ReadJson();
        var second = await (await _http.SendAsync(requests[1])).ReadJson();

        first["status"]!.GetValue<string>().Should().Be("processed");
        second["status"]!.GetValue<string>().Should().Be("duplicate");
        second["message_id"]!.GetValue<string>().Should().Be("update-1");
    }

    [Fact]
    public async Task A_resubmitted_order_with_the_same_correlation_id_returns_the_original_order()
    {
        await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")));

        var again = await (await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")))).ReadJson();

        again["status"]!.GetValue<string>().Should().Be("duplicate");
        again["result"]!["order_id"]!.GetValue<string>().Should().Be("ORD-20240211-001");
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem_with_invalid_message()
    {
        var response = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", "{\"object_type\": \"ORDER\","));

        await ShouldBeProblem(response, HttpStatusCode.BadRequest, ErrorCodes.InvalidMessage);
    }

    [Fact]
    public async Task A_missing_field_is_a_400_problem_naming_the_field()
    {
        var order = JsonNode.Parse(HttpJson.SeedSample("oms/order-new.json"))!.AsObject();
        order.Remove("account_id");

        var response = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", order.ToJsonString()));

        var problem = await ShouldBeProblem(response, HttpStatusCode.BadRequest, ErrorCodes.MissingField);
        problem["detail"]!.GetValue<string>().Should().Contain("account_id");
    }

    [Fact]
    public async Task A_wrong_type_is_a_400_problem()
    {
        var order = JsonNode.Parse(HttpJson.SeedSample("oms/order-new.json"))!.AsObject();
        order["services"]![0]!["quantity"] = "one";

        var response = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", order.ToJsonString()));

        var problem = await ShouldBeProblem(response, HttpStatusCode.BadRequest, ErrorCodes.InvalidField);
        problem["detail"]!.GetValue<string>().Should().Contain("services[0].quantity");
    }

    [Fact]
    public async Task An_empty_body_is_a_400_problem()
    {
        var response = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", ""));

        await ShouldBeProblem(response, HttpStatusCode.BadRequest, ErrorCodes.InvalidMessage);
    }

    [Fact]
    public async Task An_update_of_an_unknown_account_is_a_422_problem()
    {
        var update = HttpJson.SeedSample("oms/account-update.json").Replace("ACC-1001", "ACC-UNKNOWN");

        var response = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", update));

        await ShouldBeProblem(response, HttpStatusCode.UnprocessableEntity, ErrorCodes.AccountNotFound);
    }

    [Fact]
    public async Task An_unknown_queue_is_a_404_problem()
    {
        var response = await _http.SendAsync(HttpJson.Post("/api/queues/NO_SUCH_QUEUE/messages", "{}"));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.ContentType()!.MediaType.Should().Be("application/problem+json");
        (await response.ReadJson())["detail"]!.GetValue<string>().Should().Contain("NO_SUCH_QUEUE").And.Contain("OMS");
    }

    [Fact]
    public async Task A_message_over_one_mebibyte_is_a_413_problem_declared_or_chunked()
    {
        var big = "{\"object_type\":\"ORDER\",\"pad\":\"" + new string('x', 1024 * 1024) + "\"}";

        var declared = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", big));
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/queues/OMS/messages")
        {
            Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(big))) { Headers = { ContentType = new("application/json") } },
        };
        chunked.Headers.TransferEncodingChunked = true;
        var streamed = await _http.SendAsync(chunked);

        await ShouldBeProblem(declared, HttpStatusCode.RequestEntityTooLarge, ErrorCodes.InvalidMessage);
        await ShouldBeProblem(streamed, HttpStatusCode.RequestEntityTooLarge, ErrorCodes.InvalidMessage);
    }

    [Fact]
    public async Task A_malformed_idempotency_key_is_a_400_problem()
    {
        var response = await _http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json"), new string('k', 200)));

        await ShouldBeProblem(response, HttpStatusCode.BadRequest, ErrorCodes.InvalidField);
    }

    [Fact]
    public async Task A_saturated_queue_answers_503_with_retry_after_and_recovers()
    {
        // A queue whose handler waits on the test, so the pipeline really fills up.
        var handler = new GatedHandler();
        var system = _node.Services.GetRequiredService<ActorSystem>();
        var queue = new IngestionQueue("GATED", handler, 1, HandlingSettings.Default.WithParallelism(1).WithMaxHeld(1), system.Materializer());
        _node.Services.GetRequiredService<IngestionQueues>().Add(queue);

        var first = _http.SendAsync(HttpJson.Post("/api/queues/GATED/messages", "{}"));
        await handler.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var more = Enumerable.Range(0, 5).Select(_ => _http.SendAsync(HttpJson.Post("/api/queues/GATED/messages", "{}"))).ToList();

        // Nothing can finish while the handler is held, so whatever completes first was refused.
        var refused = await await Task.WhenAny(more).WaitAsync(TimeSpan.FromSeconds(30));

        refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a full queue refuses instead of buffering");
        refused.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        refused.ContentType()!.MediaType.Should().Be("application/problem+json");
        handler.Gate.SetResult();
        (await first).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var rest = await Task.WhenAll(more);
        rest.Should().Contain(r => r.StatusCode == HttpStatusCode.Accepted, "what was queued is processed once the handler is free");
        rest.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.Accepted || r.StatusCode == HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Reading_unknown_or_malformed_ids()
    {
        await ShouldBeProblem(await _http.GetAsync("/api/orders/ORD-NOPE"), HttpStatusCode.NotFound, ErrorCodes.OrderNotFound);
        await ShouldBeProblem(await _http.GetAsync("/api/accounts/ACC-NOPE"), HttpStatusCode.NotFound, ErrorCodes.AccountNotFound);
        await ShouldBeProblem(await _http.GetAsync("/api/orders/bad%20id"), HttpStatusCode.BadRequest, ErrorCodes.InvalidField);
    }

    private static async Task<JsonNode> ShouldBeProblem(HttpResponseMessage response, HttpStatusCode status, string errorCode)
    {
        response.StatusCode.Should().Be(status);
        response.ContentType()!.MediaType.Should().Be("application/problem+json");
        var problem = await response.ReadJson();
        problem["status"]!.GetValue<int>().Should().Be((int)status);
        problem["error_code"]!.GetValue<string>().Should().Be(errorCode);
        return problem;
    }

    private sealed class GatedHandler : IMessageHandler
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HandlingPlan Plan(MessageEnvelope envelope) => new("one-key", async _ =>
        {
            Started.TrySetResult();
            await Gate.Task;
            return HandlingOutcome.ProcessedWith();
        });
    }
}
