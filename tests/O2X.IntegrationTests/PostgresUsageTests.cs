using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>Mediation, rating and bulk jobs on the real PostgreSQL (their write paths differ from SQLite's: multi-row INSERT, UPDATE … FROM unnest, ON CONFLICT).</summary>
public sealed class PostgresUsageTests
{
    [Fact]
    public async Task Cdrs_are_mediated_deduplicated_rated_and_re_rated_on_postgres()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var files = new TempDirectory();
        await using var node = new O2XNodeFactory(new Dictionary<string, string?> { ["O2X:Persistence:ConnectionString"] = database.ConnectionString });
        var http = node.CreateClient();
        var path = files.File("calls.csv");
        // 2,500 calls of 5 accounts (more than one INSERT batch), then the first 10 again.
        CdrFiles.WriteMcmVoice(path, 1, 2500, extra: Enumerable.Range(1, 10).Select(n => CdrFiles.McmVoiceRow(n, 5)), accounts: 5);
        var mediation = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        mediation["file_location"] = path;

        var mediated = (await (await http.PostMessageAsync("MEDIATION", mediation.ToJsonString(), "pg-med")).ReadJson())["result"]!;
        mediated["stored"]!.GetValue<string>().Should().Be("2500");
        mediated["duplicates"]!.GetValue<string>().Should().Be("10");

        var batch = """{"batch_id":"B-PG","account_ids":["ACC-0000","ACC-0001","ACC-0002","ACC-0003","ACC-0004"],"service_type":"VOICE"}""";
        var rated = await http.PostMessageAsync("USAGE", batch, "pg-usage");
        rated.StatusCode.Should().Be(HttpStatusCode.Accepted, await rated.Content.ReadAsStringAsync());
        (await rated.ReadJson())["result"]!["rated"]!.GetValue<string>().Should().Be("2500");
        var before = JsonNode.Parse(await http.GetStringAsync("/api/usage/accumulators/ACC-0001"))!.AsArray().Single()!;
        before["records"]!.GetValue<long>().Should().Be(500);

        // Record 1 is ACC-0001's first call (R000000001, 1 s = 1 started minute, inside the allowance): re-rated at 0.04.
        var reRate = """{"reprocess_type":"RE_RATE","usage_record_ids":["USG-1"],"new_rating_plan_id":"PLAN-2024-NEW"}""";
        (await (await http.PostMessageAsync("USAGE", reRate, "pg-rerate")).ReadJson())["result"]!["amount"]!.GetValue<string>().Should().Be("0.04");
        var after = JsonNode.Parse(await http.GetStringAsync("/api/usage/accumulators/ACC-0001"))!.AsArray().Single()!;
        after["amount"]!.GetValue<decimal>().Should().Be(before["amount"]!.GetValue<decimal>() + 0.04m);
        after["used_units"]!.GetValue<long>().Should().Be(before["used_units"]!.GetValue<long>());
    }

    [Fact]
    public async Task Bulk_jobs_record_each_item_once_on_postgres()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var node = new O2XNodeFactory(new Dictionary<string, string?> { ["O2X:Persistence:ConnectionString"] = database.ConnectionString });
        var http = node.CreateClient();
        const string account = "ACC-PG-BULK";
        await http.InvoicedAccountAsync(account, "SF-PG-BULK");
        var payloads = new JsonArray(Enumerable.Range(0, 250).Select(i => (JsonNode)new JsonObject
        {
            ["account_id"] = i % 25 == 0 ? "ACC-PG-NOBODY" : account, ["amount"] = -0.50m, ["currency"] = "USD", ["reason"] = "credit " + i,
        }).ToArray());
        var job = new JsonObject { ["id"] = "PG-JOB", ["api_name"] = "CREATE_ADJUSTMENT", ["payloads"] = payloads };

        (await http.SendAsync(HttpJson.Post("/api/bulk", job.ToJsonString()))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var stats = await http.BulkCompletedAsync("PG-JOB");
        (stats["success_count"]!.GetValue<int>(), stats["failure_count"]!.GetValue<int>()).Should().Be((240, 10));

        var seed = HttpJson.SeedSample("bulk/regenerate-invoice.json");
        (await (await http.PostMessageAsync("BULK", seed)).ReadJson())["result"]!["failed"]!.GetValue<string>().Should().Be("2");
        (await (await http.PostMessageAsync("BULK", seed)).ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        (await (await http.SendAsync(HttpJson.Post("/api/bulk", job.ToJsonString()))).ReadJson())["resubmitted"]!.GetValue<bool>().Should().BeTrue();

        var view = JsonNode.Parse(await http.GetStringAsync($"/api/accounts/{account}"))!;
        view["balances"]![0]!["amount"]!.GetValue<decimal>().Should().Be(149m - 240 * 0.50m);
        (await http.BulkCompletedAsync("PG-JOB"))["success_count"]!.GetValue<int>().Should().Be(240);
    }
}
