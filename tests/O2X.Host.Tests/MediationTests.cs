using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using O2X.Actors.Usage;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>Issue "Usage rating and bulk operations", mediation: CDR files to UNRATED usage records (seed §4.2, §6.3).</summary>
public sealed class MediationTests() : NodeTest(new Dictionary<string, string?>
{
    ["O2X:Bindings:MEDIATION:Retry:InitialDelay"] = "00:00:00.02",
    ["O2X:Bindings:MEDIATION:Retry:MaxDelay"] = "00:00:00.05",
    ["O2X:Bindings:MEDIATION:Retry:MaxRedeliveries"] = "2",
}), IDisposable
{
    private readonly TempDirectory _files = new();

    private static string Message(string location, string format = "MCM_VOICE_V2", string service = "VOICE")
    {
        var message = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        message["file_location"] = location;
        message["vendor_format"] = format;
        message["service_type"] = service;
        return message.ToJsonString();
    }

    private async Task<JsonNode> Job(string id) => JsonNode.Parse(await Http.GetStringAsync($"/api/mediation/{id}"))!;

    [Fact]
    public async Task A_file_is_stored_unrated_with_bad_rows_refused_one_by_one_and_duplicates_stored_once()
    {
        var path = _files.File("mcm_voice.csv");
        CdrFiles.WriteMcmVoice(path, 1, 2000, extra:
        [
            CdrFiles.McmVoiceRow(5), CdrFiles.McmVoiceRow(6), CdrFiles.McmVoiceRow(7), // within-file duplicates
            "R900000001,+50688880001,+50622220001,2024-02-11T08:15:02Z,185,,CELL-1", // no account
            "R900000002,+50688880001,+50622220001,yesterday,185,ACC-1001,CELL-1",
            "R900000003,+50688880001,+50622220001,2024-02-11T08:15:02Z,-5,ACC-1001,CELL-1",
            "R900000004,+50688880001,+50622220001,2024-02-11T08:15:02Z,185,ACC 1001!,CELL-1",
        ]);

        var response = await Http.PostMessageAsync("MEDIATION", Message(path), "med-1");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var result = (await response.ReadJson())["result"]!;
        result["rows_read"]!.GetValue<string>().Should().Be("2007");
        result["stored"]!.GetValue<string>().Should().Be("2000");
        result["rejected"]!.GetValue<string>().Should().Be("4");
        result["duplicates"]!.GetValue<string>().Should().Be("3");
        var job = await Job("med-1");
        job["status"]!.GetValue<string>().Should().Be("COMPLETED");
        job["stored"]!.GetValue<long>().Should().Be(2000);
        var rejections = JsonNode.Parse(await Http.GetStringAsync("/api/mediation/med-1/rejections"))!["items"]!.AsArray();
        rejections.Select(r => r!["row_number"]!.GetValue<long>()).Should().Equal(2005, 2006, 2007, 2008);
        rejections.Select(r => r!["reason"]!.GetValue<string>()).Should().SatisfyRespectively(
            r => r.Should().Be("account_id is missing"),
            r => r.Should().Contain("start_time 'yesterday'"),
            r => r.Should().Contain("duration_seconds '-5'"),
            r => r.Should().Contain("account_id 'ACC 1001!'"));
        (await Node.Services.GetRequiredService<UsageStore>().CountAsync("UNRATED")).Should().Be(2000);

        // The same message again: one effect. An overlapping file: only the new records.
        var again = await Http.PostMessageAsync("MEDIATION", Message(path), "med-1");
        (await again.ReadJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        var overlap = _files.File("overlap.csv");
        CdrFiles.WriteMcmVoice(overlap, 1901, 200);
        var second = (await (await Http.PostMessageAsync("MEDIATION", Message(overlap), "med-2")).ReadJson())["result"]!;
        second["stored"]!.GetValue<string>().Should().Be("100");
        second["duplicates"]!.GetValue<string>().Should().Be("100", "records already stored by the first file are not stored again");
        (await Node.Services.GetRequiredService<UsageStore>().CountAsync("UNRATED")).Should().Be(2100);
    }

    [Fact]
    public async Task Data_and_sms_in_the_canonical_format_are_stored_with_their_units()
    {
        var path = _files.File("data_sms.csv");
        File.WriteAllText(path, File.ReadAllText(RepositoryLayout.Sample("mediation/o2x_usage_data_sms_20240211.csv"))
                                + "S000000009,SMS,ACC-1001,+50688880001,2024-02-11T08:06:00Z,1,BYTES,\n");

        var result = (await (await Http.PostMessageAsync("MEDIATION", Message("file://" + path, "O2X_USAGE_V1", "DATA"), "med-data")).ReadJson())["result"]!;

        result["stored"]!.GetValue<string>().Should().Be("4");
        result["rejected"]!.GetValue<string>().Should().Be("1");
        var rejection = JsonNode.Parse(await Http.GetStringAsync("/api/mediation/med-data/rejections"))!["items"]![0]!;
        rejection["reason"]!.GetValue<string>().Should().Be("unit 'BYTES' does not fit service_type SMS (expected EVENTS)");
    }

    [Fact]
    public async Task The_seeds_sftp_message_is_refused_clearly_and_a_missing_file_is_retried_then_dead_lettered()
    {
        var seed = await Http.PostMessageAsync("MEDIATION", HttpJson.SeedSample("mediation/mediation-request.json"), "med-sftp");
        seed.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await seed.ReadJson())["error_code"]!.GetValue<string>().Should().Be("UNSUPPORTED_LOCATION");

        var format = await Http.PostMessageAsync("MEDIATION", Message(_files.File("x.csv"), "ERICSSON_V9"), "med-format");
        (await format.ReadJson())["error_code"]!.GetValue<string>().Should().Be("UNSUPPORTED_FORMAT");

        var missing = await Http.PostMessageAsync("MEDIATION", Message(_files.File("not-arrived-yet.csv")), "med-missing");
        missing.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var problem = await missing.ReadJson();
        problem["error_code"]!.GetValue<string>().Should().Be("DEAD_LETTERED");
        problem["detail"]!.GetValue<string>().Should().Contain("failed 3 times").And.Contain("RetryableException");
    }

    void IDisposable.Dispose() => _files.Dispose();
}
