using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>What the bill-run tests against a node over HTTP share: rated February usage, a started run, a count from the database.</summary>
internal static class BillRunSetup
{
    /// <summary>
    /// Writes <paramref name="callsPerAccount"/> February calls for each of accounts ACC-0000… (<see cref="CdrFiles"/> numbers
    /// them so), mediates the file and rates the batch; checks that every call was rated.
    /// </summary>
    public static async Task RateFebruaryCallsAsync(HttpClient http, TempDirectory workdir, int accounts, int callsPerAccount, string batchId)
    {
        var path = workdir.File("calls.csv");
        CdrFiles.WriteMcmVoice(path, 1, accounts * callsPerAccount, accounts: accounts);
        var mediation = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        mediation["file_location"] = path;
        (await http.PostMessageAsync("MEDIATION", mediation.ToJsonString())).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var rating = new JsonObject
        {
            ["batch_id"] = batchId, ["service_type"] = "VOICE",
            ["account_ids"] = new JsonArray(Enumerable.Range(0, accounts).Select(i => (JsonNode)$"ACC-{i:D4}").ToArray()),
        };
        (await (await http.PostMessageAsync("USAGE", rating.ToJsonString())).ReadJson())["result"]!["rated"]!.GetValue<string>()
            .Should().Be((accounts * callsPerAccount).ToString());
    }

    /// <summary>Starts a run of <paramref name="period"/> over all accounts; returns its status URL.</summary>
    public static async Task<string> StartRunAsync(HttpClient http, string period)
    {
        var started = await http.SendAsync(HttpJson.Post("/api/billing/runs", $$"""{"period":"{{period}}"}"""));
        started.StatusCode.Should().Be(HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
        return (await started.ReadJson())["status_url"]!.GetValue<string>();
    }

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
