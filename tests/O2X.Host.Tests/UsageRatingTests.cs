using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>Issue "Usage rating and bulk operations", rating: USAGE batches and RE_RATE on mediated records (seed §6.4).</summary>
public sealed class UsageRatingTests() : NodeTest, IDisposable
{
    private readonly TempDirectory _files = new();

    private async Task MediateAsync()
    {
        // Four calls of ACC-2001 in February, in file (and id) order USG-1..USG-4, and one of ACC-2002.
        var path = _files.File("calls.csv");
        File.WriteAllText(path, CdrFiles.McmVoiceHeader + "\n" +
                                "C1,+50611,+50622,2024-02-01T08:00:00Z,185,ACC-2001,CELL-1\n" +
                                "C2,+50611,+50622,2024-02-02T08:00:00Z,3540,ACC-2001,CELL-1\n" +
                                "C3,+50611,+50622,2024-02-03T08:00:00Z,2400,ACC-2001,CELL-1\n" +
                                "C4,+50611,+50622,2024-02-04T08:00:00Z,600,ACC-2001,CELL-1\n" +
                                "C5,+50633,+50622,2024-02-04T09:00:00Z,61,ACC-2002,CELL-2\n");
        var message = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        message["file_location"] = path;
        (await Http.PostMessageAsync("MEDIATION", message.ToJsonString(), "med-calls")).StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    private async Task<JsonNode> Accumulator(string account) =>
        JsonNode.Parse(await Http.GetStringAsync($"/api/usage/accumulators/{account}"))!.AsArray().Single()!;

    [Fact]
    public async Task A_batch_rates_in_time_order_through_allowance_and_a_re_rate_adjusts_the_accumulator_by_the_difference()
    {
        await MediateAsync();

        // The seed's batch message, verbatim apart from ids and accounts that exist here.
        var batch = JsonNode.Parse("""
            { "batch_id": "USAGE-BATCH-20240211-001", "usage_record_ids": ["USG-5"], "rating_date": "2024-02-11",
              "account_ids": ["ACC-2001"], "service_type": "VOICE", "priority": "HIGH", "initiated_by": "batch-process",
              "submission_timestamp": "2024-02-11T01:00:00Z" }
            """)!.ToJsonString();
        var rated = await Http.PostMessageAsync("USAGE", batch, "usage-1");
        rated.StatusCode.Should().Be(HttpStatusCode.Accepted, await rated.Content.ReadAsStringAsync());
        var result = (await rated.ReadJson())["result"]!;
        result["rated"]!.GetValue<string>().Should().Be("5");
        // ACC-2001: 4 + 59 + 40 + 10 started minutes; 100 included: 0 + 0 + 3 × 0.05 + 10 × 0.05 = 0.65. ACC-2002: 2 minutes included.
        result["amount"]!.GetValue<string>().Should().Be("0.65");
        var first = await Accumulator("ACC-2001");
        first["used_units"]!.GetValue<long>().Should().Be(113);
        first["amount"]!.GetValue<decimal>().Should().Be(0.65m);
        first["month"]!.GetValue<string>().Should().Be("2024-02");

        var again = await Http.PostMessageAsync("USAGE", batch, "usage-1-again");
        (await again.ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate", "nothing UNRATED is left: a redelivered batch rates nothing twice");
        (await Accumulator("ACC-2001"))["amount"]!.GetValue<decimal>().Should().Be(0.65m);

        // The seed's re-rating request: C4 (USG-4) moves to PLAN-2024-NEW (no allowance, 0.04/min): 0.50 out, 10 × 0.04 in.
        var reRate = JsonNode.Parse(HttpJson.SeedSample("usage/re-rate.json"))!.AsObject();
        reRate["usage_record_ids"] = new JsonArray("USG-4", "USG-999");
        var reRated = (await (await Http.PostMessageAsync("USAGE", reRate.ToJsonString(), "rerate-1")).ReadJson())["result"]!;
        reRated["rated"]!.GetValue<string>().Should().Be("1");
        reRated["not_found"]!.GetValue<string>().Should().Be("1");
        reRated["amount"]!.GetValue<string>().Should().Be("-0.10");
        var after = await Accumulator("ACC-2001");
        after["used_units"]!.GetValue<long>().Should().Be(113);
        after["amount"]!.GetValue<decimal>().Should().Be(0.55m);
        after["records"]!.GetValue<long>().Should().Be(4);

        var reRatedAgain = await Http.PostMessageAsync("USAGE", reRate.ToJsonString(), "rerate-1-again");
        (await reRatedAgain.ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        (await Accumulator("ACC-2001"))["amount"]!.GetValue<decimal>().Should().Be(0.55m, "a re-rate never counts twice");
    }

    [Fact]
    public async Task Bad_usage_messages_are_refused_clearly()
    {
        var unknownPlan = await Http.PostMessageAsync("USAGE", """{"reprocess_type":"RE_RATE","usage_record_ids":["USG-1"],"new_rating_plan_id":"NOPE"}""");
        unknownPlan.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await unknownPlan.ReadJson())["detail"]!.GetValue<string>().Should().Contain("NOPE");
        var nothing = await Http.PostMessageAsync("USAGE", """{"batch_id":"B-1","usage_record_ids":[]}""");
        (await nothing.ReadJson())["error_code"]!.GetValue<string>().Should().Be("MISSING_FIELD");
        var tooMany = new JsonObject { ["batch_id"] = "B-2", ["usage_record_ids"] = new JsonArray(Enumerable.Range(1, 10_001).Select(i => (JsonNode)$"USG-{i}").ToArray()) };
        (await (await Http.PostMessageAsync("USAGE", tooMany.ToJsonString())).ReadJson())["detail"]!.GetValue<string>().Should().Contain("at most 10000");
    }

    void IDisposable.Dispose() => _files.Dispose();
}

/// <summary>Seed §4.2 step 8: the trigger finds UNRATED usage and queues USAGE batches by itself.</summary>
public sealed class RatingTriggerTests() : NodeTest(new Dictionary<string, string?> { ["O2X:Rating:TriggerInterval"] = "00:00:01", ["O2X:Rating:BatchSize"] = "300" }),
    IDisposable
{
    private readonly TempDirectory _files = new();

    [Fact]
    public async Task Unrated_usage_is_batched_and_rated_without_anybody_asking()
    {
        var path = _files.File("calls.csv");
        CdrFiles.WriteMcmVoice(path, 1, 1000, accounts: 7);
        var message = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        message["file_location"] = path;
        (await Http.PostMessageAsync("MEDIATION", message.ToJsonString(), "med-trigger")).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var store = Node.Services.GetRequiredService<O2X.Actors.Usage.UsageStore>();
        await Eventually.TrueAsync(async () => await store.CountAsync("RATED") == 1000, TimeSpan.FromSeconds(30), "every record is rated by triggered batches");
        (await store.CountAsync("UNRATED")).Should().Be(0);
        var accumulators = JsonNode.Parse(await Http.GetStringAsync("/api/usage/accumulators/ACC-0003"))!.AsArray();
        accumulators.Sum(a => a!["records"]!.GetValue<long>()).Should().Be(143, "1,000 calls over 7 accounts: ACC-0003 has 143, each rated once");
    }

    void IDisposable.Dispose() => _files.Dispose();
}

/// <summary>price-sync: dated plan versions; rating uses the version in force when the usage happened.</summary>
public sealed class PriceSyncTests() : NodeTest, IDisposable
{
    private readonly TempDirectory _files = new();

    [Fact]
    public async Task Usage_is_rated_with_the_plan_version_in_force_at_its_time()
    {
        // The sample moves PLAN-VOICE-STD to no allowance and 0.045/min from March 1st.
        var sync = await Http.PostMessageAsync("price-sync", File.ReadAllText(RepositoryLayout.Sample("price-sync/plan-update.json")), "ps-1");
        sync.StatusCode.Should().Be(HttpStatusCode.Accepted, await sync.Content.ReadAsStringAsync());
        (await Http.PostMessageAsync("price-sync", File.ReadAllText(RepositoryLayout.Sample("price-sync/plan-update.json")), "ps-1"))
            .StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Node.Services.GetRequiredService<O2X.Actors.Usage.PricePlanStore>().AllAsync()).Should().HaveCount(2, "the same versions stored again are the same rows");

        var path = _files.File("calls.csv");
        File.WriteAllText(path, CdrFiles.McmVoiceHeader + "\n" +
                                "F1,+50611,+50622,2024-02-29T23:59:00Z,600,ACC-3001,CELL-1\n" + // February: old plan, 10 min included
                                "M1,+50611,+50622,2024-03-01T00:00:00Z,600,ACC-3001,CELL-1\n");  // March: new plan, 10 × 0.045
        var mediation = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        mediation["file_location"] = path;
        (await Http.PostMessageAsync("MEDIATION", mediation.ToJsonString(), "med-ps")).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var rated = (await (await Http.PostMessageAsync("USAGE", """{"batch_id":"B-PS","account_ids":["ACC-3001"]}""", "usage-ps")).ReadJson())["result"]!;
        rated["amount"]!.GetValue<string>().Should().Be("0.450");
        var months = JsonNode.Parse(await Http.GetStringAsync("/api/usage/accumulators/ACC-3001"))!.AsArray();
        months.Select(m => (m!["month"]!.GetValue<string>(), m["amount"]!.GetValue<decimal>())).Should().Equal(("2024-02", 0m), ("2024-03", 0.45m));

        // Retiring a default plan, or a band list that does not start at 0, is refused as a whole.
        var retireDefault = await Http.PostMessageAsync("price-sync",
            """{"sync_id":"PS-BAD","plans":[{"action":"RETIRE","plan_id":"PLAN-SMS-STD","effective_from":"2024-04-01T00:00:00Z"}]}""");
        retireDefault.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await retireDefault.ReadJson())["detail"]!.GetValue<string>().Should().Contain("default plan");
        var badBands = await Http.PostMessageAsync("price-sync", """{"sync_id":"PS-BAD2","plans":[{"action":"UPSERT","plan_id":"P-X","service_type":"SMS","unit":"SMS","unit_size":1,"included_units":0,"bands":[{"from":5,"rate":0.1}],"effective_from":"2024-04-01T00:00:00Z"}]}""");
        (await badBands.ReadJson())["detail"]!.GetValue<string>().Should().Contain("first band must start at 0");
    }

    void IDisposable.Dispose() => _files.Dispose();
}
