using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using O2X.Actors.Persistence;
using O2X.Host.Testing;

namespace O2X.Host.Tests;

/// <summary>Operators browse, requeue and purge dead letters over HTTP.</summary>
public sealed class DeadLettersApiTests : IAsyncLifetime
{
    private readonly O2XNodeFactory _node = new();
    private HttpClient _http = null!;
    private DeadLetterStore _store = null!;

    public Task InitializeAsync()
    {
        _http = _node.CreateClient();
        _store = _node.Services.GetRequiredService<DeadLetterStore>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Dead_letters_are_listed_filtered_paged_and_shown_in_full()
    {
        var first = await Add("OMS", "m-1", "System.TimeoutException", "{\"a\":1}");
        await Add("OMS", "m-2", "Npgsql.NpgsqlException", "{\"a\":2}");
        await Add("PROVISIONING_RESPONSE", "m-3", "System.TimeoutException", "{\"a\":3}");

        var all = await Json("/api/deadletters");
        var oms = await Json("/api/deadletters?queue=OMS&limit=1");
        var timeouts = await Json("/api/deadletters?error=Timeout");
        var detail = await Json($"/api/deadletters/{first}");

        all["items"]!.AsArray().Should().HaveCount(3);
        oms["items"]!.AsArray().Should().ContainSingle().Which!["message_id"]!.GetValue<string>().Should().Be("m-1");
        var next = await Json($"/api/deadletters?queue=OMS&limit=1&after={oms["next_after"]}");
        next["items"]![0]!["message_id"]!.GetValue<string>().Should().Be("m-2");
        timeouts["items"]!.AsArray().Select(i => i!["message_id"]!.GetValue<string>()).Should().BeEquivalentTo(["m-1", "m-3"]);
        detail["body"]!.GetValue<string>().Should().Be("{\"a\":1}");
        detail["body_encoding"]!.GetValue<string>().Should().Be("utf-8");
        detail["headers"]!["x-trace"]!.GetValue<string>().Should().Be("t-1");
        detail["dead_letter"]!["attempts"]!.GetValue<int>().Should().Be(8);
        detail["dead_letter"]!["status"]!.GetValue<string>().Should().Be("DEAD");
        (await _http.GetAsync("/api/deadletters/999999")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _http.GetAsync("/api/deadletters?status=ALIVE")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_requeued_dead_letter_goes_back_to_its_queue_once_and_succeeds()
    {
        var id = await Add("OMS", "m-order", "System.TimeoutException", HttpJson.SeedSample("oms/order-new.json"));

        var requeued = await _http.PostAsync($"/api/deadletters/{id}/requeue", null);
        var again = await _http.PostAsync($"/api/deadletters/{id}/requeue", null);

        requeued.StatusCode.Should().Be(HttpStatusCode.Accepted);
        again.StatusCode.Should().Be(HttpStatusCode.Conflict, "a requeued letter cannot be requeued again");
        await O2X.Testing.Eventually.TrueAsync(async () => (await _http.GetAsync("/api/orders/ORD-20240211-001")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(15), "the requeued order is processed");
        (await Json($"/api/deadletters/{id}"))["dead_letter"]!["status"]!.GetValue<string>().Should().Be("REQUEUED");
    }

    [Fact]
    public async Task Requeue_by_filter_takes_every_matching_dead_letter()
    {
        await Add("OMS", "m-a", "System.TimeoutException", "{}");
        await Add("OMS", "m-b", "System.TimeoutException", "{}");
        await Add("OMS", "m-c", "System.InvalidOperationException", "{}");

        var result = await (await _http.PostAsync("/api/deadletters/requeue?queue=OMS&error=Timeout", null)).ReadJson();

        result["requeued"]!.GetValue<int>().Should().Be(2);
        (await Json("/api/deadletters?status=DEAD"))["items"]!.AsArray().Should().ContainSingle()
            .Which!["message_id"]!.GetValue<string>().Should().Be("m-c");
    }

    [Fact]
    public async Task Purging_needs_a_reason_and_keeps_it()
    {
        var id = await Add("OMS", "m-purge", "System.TimeoutException", "{}");

        (await _http.DeleteAsync($"/api/deadletters/{id}")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _http.DeleteAsync($"/api/deadletters/{id}?reason=duplicate%20of%20ORD-7")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _http.PostAsync($"/api/deadletters/{id}/requeue", null)).StatusCode.Should().Be(HttpStatusCode.Conflict);

        var purged = (await Json($"/api/deadletters/{id}"))["dead_letter"]!;
        purged["status"]!.GetValue<string>().Should().Be("PURGED");
        purged["status_reason"]!.GetValue<string>().Should().Be("duplicate of ORD-7");
    }

    [Fact]
    public async Task Callers_from_other_hosts_need_the_admin_token()
    {
        const string token = "a-long-enough-admin-token";
        await using var remote = new O2XNodeFactory(new Dictionary<string, string?> { ["O2X:Admin:Token"] = token },
            callersAddress: IPAddress.Parse("10.1.2.3"));
        var http = remote.CreateClient();

        var anonymous = await http.GetAsync("/api/deadletters");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token-wrong-token");
        var wrong = await http.GetAsync("/api/deadletters");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var right = await http.GetAsync("/api/deadletters");

        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        anonymous.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
        wrong.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await wrong.Content.ReadAsStringAsync()).Should().NotContain(token);
        right.StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync("/api/orders/ORD-1")).StatusCode.Should().Be(HttpStatusCode.NotFound, "business endpoints are not admin endpoints");
    }

    private Task<long> Add(string queue, string messageId, string exceptionType, string body) => _store.AddAsync(new DeadLetterRecord(
        0, queue, messageId, null, new Dictionary<string, string> { ["x-trace"] = "t-1" }, Encoding.UTF8.GetBytes(body), 8,
        DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow, exceptionType, "it failed", DeadLetterStatus.Dead, null, 0, DateTime.UtcNow), null);

    private async Task<System.Text.Json.Nodes.JsonNode> Json(string url)
    {
        var response = await _http.GetAsync(url);
        response.StatusCode.Should().Be(HttpStatusCode.OK, url);
        return await response.ReadJson();
    }
}
