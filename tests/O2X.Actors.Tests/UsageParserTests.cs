using O2X.Actors.Usage;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public sealed class UsageParserTests
{
    [Fact]
    public void Mcm_voice_rows_become_canonical_records_quoted_fields_and_offsets_included()
    {
        const string file = """
            record_id,calling_number,called_number,start_time,duration_seconds,account_id,cell_id
            "R1","+50688880001","+50622220001",2024-02-11T09:30:00+01:00,185,ACC-1001,"CELL, 17"
            R2,+50688880002,+50622220002,2024-02-11T08:00:00Z,0,ACC-1002,
            """;

        var rows = new McmVoiceV2Parser().Parse(new StringReader(file), "MCM").ToList();

        rows.Should().HaveCount(2).And.OnlyContain(r => r.Error == null);
        var first = rows[0].Record!;
        first.Should().Be(new UsageRecord("MCM:R1", "R1", "VOICE", "ACC-1001", "+50688880001", "+50622220001",
            new DateTime(2024, 2, 11, 8, 30, 0, DateTimeKind.Utc), 185, UsageUnits.Seconds, "CELL, 17", "MCM"));
        rows[0].RowNumber.Should().Be(2);
        rows[1].Record!.Location.Should().BeNull("an empty cell is a trunk call, not an error");
    }

    [Fact]
    public void A_file_without_a_required_column_is_refused_as_a_whole()
    {
        var parse = () => new McmVoiceV2Parser().Parse(new StringReader("record_id,calling_number\nR1,+1\n"), "MCM").ToList();

        parse.Should().Throw<NonRetryableException>().Which.Message.Should().Contain("no 'called_number' column");
    }

    [Fact]
    public void Unknown_formats_have_no_parser()
    {
        UsageParsers.Default.For("MCM_VOICE_V2").Should().BeOfType<McmVoiceV2Parser>();
        UsageParsers.Default.For("O2X_USAGE_V1").Should().BeOfType<CanonicalUsageParser>();
        UsageParsers.Default.For("ERICSSON_V9").Should().BeNull();
    }
}
