using Microsoft.Extensions.Logging;
using O2X.Actors.Invoicing;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>
/// The bill run's schedule (<c>O2X:Billing:ScheduleEnabled</c>, on by default), which every other test turns off: what a node
/// started with the defaults on a new database does.
/// </summary>
public sealed class BillingScheduleTests
{
    [Fact]
    public async Task A_fresh_node_bills_the_month_that_ended_over_no_accounts_and_logs_no_warning_or_error()
    {
        using var data = new TempDirectory();
        var logs = new CapturedLogs();
        static string LastMonth() => BillingPeriod.LabelOf(BillingPeriod.MonthOf(DateOnly.FromDateTime(DateTime.UtcNow)).AddMonths(-1));
        var before = LastMonth();
        await using var node = new O2XNodeFactory(new Dictionary<string, string?> { ["O2X:Billing:ScheduleEnabled"] = "true" },
            sqlitePath: data.File("o2x.db"), logs: logs);
        var http = node.CreateClient();

        // The schedule's first check comes 5 s after start. On a new database the journal's tables do not exist until an
        // entity first uses them: the run must read that as "no accounts", not fail.
        var runs = await Eventually.ReturnsAsync(async () => (await (await http.GetAsync("/api/billing/runs")).ReadJson())["items"]!.AsArray(),
            items => items.Count > 0 && items[0]!["finished_at"] is not null, TimeSpan.FromSeconds(60), "the schedule's first run finishes");

        var run = runs.Should().ContainSingle().Subject!;
        run["trigger"]!.GetValue<string>().Should().Be("SCHEDULE");
        run["period"]!.GetValue<string>().Should().BeOneOf(before, LastMonth());
        run["status"]!.GetValue<string>().Should().Be("COMPLETED", run.ToJsonString());
        run["accounts"]!.GetValue<int>().Should().Be(0);
        logs.Lines.Where(l => l.Level >= LogLevel.Warning).Select(l => l.Text).Should().BeEmpty(
            "a node started with the defaults on a new database has nothing to warn about");
    }
}
