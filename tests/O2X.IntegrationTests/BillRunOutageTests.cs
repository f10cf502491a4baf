using System.Net;
using Microsoft.Extensions.Logging;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>
/// A bill run whose database goes away in the middle (a restart, a failover, a connection the server ends): the run waits,
/// resumes where it stopped once the database is back, and bills every account and every usage record once — instead of
/// ending FAILED with only some accounts billed.
/// </summary>
public sealed class BillRunOutageTests
{
    private const int Accounts = 12;
    private const string Token = "bill-run-outage-test-admin-token";

    [Fact]
    public async Task A_database_restart_mid_run_is_retried_with_backoff_and_the_run_completes_billing_every_account_once()
    {
        await using var postgres = await PostgresServer.StartAsync();
        using var workdir = new TempDirectory();
        var logs = new CapturedLogs();
        await using var node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Persistence:ConnectionString"] = postgres.ConnectionString,
            ["O2X:Admin:Token"] = Token,
            ["O2X:Usage:Files:Roots:0"] = workdir.Path,
            // Two accounts a batch, a second apart: the run lasts about six seconds, so the outage lands inside it.
            ["O2X:Billing:BatchSize"] = "2",
            ["O2X:Billing:PauseBetweenBatches"] = "00:00:01",
        }, logs: logs);
        var http = node.CreateClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        for (var i = 0; i < Accounts; i++) await http.InvoicedAccountAsync($"ACC-{i:D4}", $"SF-OUTAGE-{i}");
        await BillRunSetup.RateFebruaryCallsAsync(http, workdir, Accounts, 5, "B-OUTAGE");

        var url = await BillRunSetup.StartRunAsync(http, "2024-02");
        var runId = url.Split('/')[^1];
        var progress = await Eventually.ReturnsAsync(async () => await (await http.GetAsync(url)).ReadJson(),
            r => r["invoiced"]!.GetValue<int>() > 0 || r["status"]!.GetValue<string>() is "COMPLETED" or "FAILED", TimeSpan.FromSeconds(60),
            "the run billed its first accounts");
        progress["status"]!.GetValue<string>().Should().Be("RUNNING", progress.ToJsonString());

        await postgres.StopAsync();
        // The run notices at its next statement and schedules its first retry: 1 s ± 15% (BillRunner.Retry).
        var retry = await Eventually.ReturnsAsync(() => Task.FromResult(Retries(logs, runId)), r => r.Count > 0, TimeSpan.FromSeconds(60),
            "the run reported that it lost the database and will retry");
        retry[0].Should().Contain("retry 1 of 10");
        var delay = double.Parse(System.Text.RegularExpressions.Regex.Match(retry[0], @"resumes it in ([0-9.]+) s").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        delay.Should().BeInRange(0.8, 1.2, "the first retry waits the policy's first delay, 1 s ± 15% (logged to 0.1 s)");
        await postgres.StartAgainAsync();

        var finished = await Eventually.ReturnsAsync(async () => await (await http.GetAsync(url)).ReadJson(),
            r => r["status"]!.GetValue<string>() is "COMPLETED" or "FAILED", TimeSpan.FromSeconds(120), "the run finished after the restart");
        Console.WriteLine($"bill run after the outage ({Retries(logs, runId).Count} retries): {finished.ToJsonString()}");
        finished["status"]!.GetValue<string>().Should().Be("COMPLETED", finished.ToJsonString());
        finished["accounts"]!.GetValue<int>().Should().Be(Accounts);
        finished["invoiced"]!.GetValue<int>().Should().Be(Accounts, "every account billed, each by one attempt");
        finished["error"].Should().BeNull();
        (await BillRunSetup.ScalarAsync(postgres.ConnectionString, "SELECT COUNT(*) FROM o2x_cycle_invoice WHERE period = '2024-02'")).Should().Be(Accounts);
        (await BillRunSetup.ScalarAsync(postgres.ConnectionString, "SELECT COUNT(*) FROM o2x_usage_record WHERE status <> 'BILLED'")).Should().Be(0);
        (await BillRunSetup.ScalarAsync(postgres.ConnectionString, "SELECT COUNT(*) FROM o2x_bill_run_account WHERE run_id = '" + runId + "'")).Should().Be(Accounts,
            "one result per account: no account was billed by two attempts");
        for (var i = 0; i < Accounts; i++)
        {
            var invoices = await Eventually.ReturnsAsync(
                async () => (await (await http.GetAsync($"/api/accounts/ACC-{i:D4}")).ReadJson())["invoices"]!.AsArray(),
                v => v.Any(x => x!["period"]?.GetValue<string>() == "2024-02"), TimeSpan.FromSeconds(30), $"ACC-{i:D4} has its invoice");
            invoices.Count(v => v!["period"]?.GetValue<string>() == "2024-02").Should().Be(1, $"ACC-{i:D4}");
        }
    }

    private static List<string> Retries(CapturedLogs logs, string runId) =>
        [.. logs.Lines.Where(l => l.Level == LogLevel.Warning && l.Text.Contains($"Bill run {runId} stopped on a lost dependency")).Select(l => l.Text)];
}
