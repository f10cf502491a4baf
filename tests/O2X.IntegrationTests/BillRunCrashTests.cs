using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>
/// Issue "Monthly billing run": a node killed (SIGKILL) in the middle of a bill run on PostgreSQL, and restarted, bills every
/// account exactly once and every usage record exactly once, and every invoice reaches the test SMTP server — any repeat
/// with the same Message-ID.
/// </summary>
public sealed class BillRunCrashTests
{
    private const int Accounts = 16;
    private const string Token = "bill-run-crash-test-admin-token";

    private static HttpClient Client(NodeProcess node)
    {
        var http = new HttpClient { BaseAddress = node.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        return http;
    }

    [Fact]
    public async Task A_node_killed_mid_run_resumes_the_run_and_bills_every_account_and_record_once()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var workdir = new TempDirectory();
        var mailTag = Guid.NewGuid().ToString("N")[..8];
        string Email(int i) => $"crash-{mailTag}-{i}@example.com";
        var environment = TestMailbox.NodeSettings().ToDictionary(s => s.Key.Replace(":", "__"), s => s.Value!);
        environment["O2X__Persistence__ConnectionString"] = database.ConnectionString;
        environment["O2X__Usage__Files__Roots__0"] = workdir.Path;
        environment["O2X__Admin__Token"] = Token;
        // Small batches with a pause between them: the run takes seconds, so the kill lands inside it.
        environment["O2X__Billing__BatchSize"] = "4";
        environment["O2X__Billing__PauseBetweenBatches"] = "00:00:00.500";
        var node = await NodeProcess.StartAsync(workdir.Path, environment);
        try
        {
            var http = Client(node);
            for (var i = 0; i < Accounts; i++)
            {
                await http.InvoicedAccountAsync($"ACC-{i:D4}", $"SF-CRASH-{i}");
                var contact = new JsonObject
                {
                    ["object_type"] = "ACCOUNT", ["action"] = "UPDATE", ["account_id"] = $"ACC-{i:D4}", ["submission_timestamp"] = "2024-02-01T00:00:00Z",
                    ["updates"] = new JsonObject { ["billing_contact"] = new JsonObject { ["email"] = Email(i) } },
                };
                (await http.PostMessageAsync("OMS", contact.ToJsonString())).StatusCode.Should().Be(HttpStatusCode.Accepted);
            }

            // 10 February calls per account (CdrFiles numbers accounts ACC-0000…).
            await BillRunSetup.RateFebruaryCallsAsync(http, workdir, Accounts, 10, "B-CRASH");

            var url = await BillRunSetup.StartRunAsync(http, "2024-02");
            // Kill once some accounts, not all, are billed.
            var progress = await Eventually.ReturnsAsync(async () => await (await http.GetAsync(url)).ReadJson(),
                r => r["invoiced"]!.GetValue<int>() > 0 || r["status"]!.GetValue<string>() is "COMPLETED" or "FAILED", TimeSpan.FromSeconds(60),
                "the run billed its first accounts");
            progress["status"]!.GetValue<string>().Should().Be("RUNNING", progress.ToJsonString());
            await node.KillAsync();
            var billedAtKill = await BillRunSetup.ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM o2x_cycle_invoice");
            billedAtKill.Should().BeLessThan(Accounts, $"the kill came before the run's end (progress then: {progress.ToJsonString()})");

            node = await NodeProcess.StartAsync(workdir.Path, environment);
            http = Client(node);
            var finished = await Eventually.ReturnsAsync(async () => await (await http.GetAsync(url)).ReadJson(),
                r => r["status"]!.GetValue<string>() == "COMPLETED", TimeSpan.FromSeconds(120), "the run resumed after the restart and finished");
            Console.WriteLine($"bill run: {billedAtKill} accounts billed at the kill; after the restart {finished.ToJsonString()}");

            finished["accounts"]!.GetValue<int>().Should().Be(Accounts);
            finished["invoiced"]!.GetValue<int>().Should().Be(Accounts, "each account was billed by exactly one of the two attempts");
            (await BillRunSetup.ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM o2x_cycle_invoice WHERE period = '2024-02'")).Should().Be(Accounts);
            (await BillRunSetup.ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM o2x_usage_record WHERE status <> 'BILLED'")).Should().Be(0);
            (await BillRunSetup.ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM o2x_usage_record r JOIN o2x_cycle_invoice i ON i.invoice_number = r.invoice_number " +
                                         "WHERE i.account_id = r.account_id")).Should().Be(Accounts * 10, "every record is on its own account's invoice");

            // Every invoice reaches the SMTP server; a repeat (sent before the kill, not yet recorded as sent) is the same mail.
            var mails = await Eventually.ReturnsAsync(() => Task.FromResult(Enumerable.Range(0, Accounts).Select(i => TestMailbox.For(Email(i))).ToList()),
                m => m.All(x => x.Count > 0), TimeSpan.FromSeconds(60), "every account's invoice mailed");
            Console.WriteLine($"invoice mails: {mails.Sum(m => m.Count)} for {Accounts} invoices, {mails.Sum(m => m.Count - 1)} repeats");
            for (var i = 0; i < Accounts; i++)
            {
                mails[i].Select(m => m.MessageId).Distinct().Should().ContainSingle($"every mail of ACC-{i:D4}'s invoice is the same mail");
                mails[i].Select(m => m.Headers["X-O2X-Invoice-Number"]).Distinct().Should().Equal($"INV-ACC-{i:D4}-202402");
            }

            // Every account entity has its invoice once (those billed just before the kill were recorded on the restart).
            for (var i = 0; i < Accounts; i++)
            {
                var invoices = (await (await http.GetAsync($"/api/accounts/ACC-{i:D4}")).ReadJson())["invoices"]!.AsArray();
                invoices.Count(v => v!["period"]?.GetValue<string>() == "2024-02").Should().Be(1, $"ACC-{i:D4}");
            }
        }
        finally
        {
            await node.DisposeAsync();
        }
    }
}
