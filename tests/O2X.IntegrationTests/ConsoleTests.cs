using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.IntegrationTests;

/// <summary>A node process with its web console, and headless Debian Chromium driven by Playwright.</summary>
public sealed class ConsoleNode : IAsyncLifetime
{
    private readonly TempDirectory _workdir = new();
    private IPlaywright _playwright = null!;

    public NodeProcess Node { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public TempDirectory Files { get; } = new();

    public HttpClient Http { get; private set; } = null!;

    public const string StuckAccount = "ACC-CONSOLE-STUCK";

    /// <summary>An order placed at start and never answered: STUCK after 5 s.</summary>
    public string StuckOrderId { get; private set; } = "";

    /// <summary>The node's admin listener: a local operator's changes need no token there (single node on SQLite).</summary>
    public HttpClient AdminHttp { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = await NodeProcess.StartAsync(_workdir.Path, new Dictionary<string, string>
        {
            ["O2X__Node__Port"] = "0",
            ["O2X__Persistence__SqlitePath"] = Path.Combine(_workdir.Path, "data", "o2x.db"),
            ["O2X__Bindings__MEDIATION__Retry__InitialDelay"] = "00:00:00.05",
            ["O2X__Bindings__MEDIATION__Retry__MaxDelay"] = "00:00:00.1",
            ["O2X__Bindings__MEDIATION__Retry__MaxRedeliveries"] = "1",
            ["O2X__Usage__Files__Roots__0"] = Files.Path,
            // Short, so the order placed below is STUCK by the time its test runs; every other test's order is answered at once.
            ["O2X__Orders__ProvisioningTimeout"] = "00:00:05",
            ["O2X__Orders__StuckCheckInterval"] = "00:00:00.5",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        Http = new HttpClient { BaseAddress = Node.BaseAddress };
        AdminHttp = new HttpClient { BaseAddress = Node.AdminAddress };
        var placed = await PostAsync("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json").Replace("ACC-1001", StuckAccount)
            .Replace("SF-ORD-20240211-12345", "SF-CONSOLE-STUCK"));
        StuckOrderId = (await placed.ReadJson())["result"]!["order_id"]!.GetValue<string>();
        // Assertions wait as long as actions: Playwright's own default for Expect(…) is 5 s, which a loaded 2-core machine can
        // need for a 120-item bulk job to finish (it was RUNNING at 100 of 120 after 5 s in a clean-clone run).
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // Without the background-networking flags Chromium keeps trying to reach Google on a closed network.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <param name="admin">Open the console on the admin listener (where a local operator may make changes without a token).</param>
    public async Task<IPage> OpenAsync(string hash = "", bool admin = false)
    {
        var page = await Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(new Uri(admin ? Node.AdminAddress! : Node.BaseAddress, "/" + hash).ToString());
        return page;
    }

    public async Task<HttpResponseMessage> PostAsync(string path, string body) =>
        await Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        Http.Dispose();
        AdminHttp.Dispose();
        await Node.DisposeAsync();
        Files.Dispose();
        _workdir.Dispose();
    }
}

/// <summary>
/// Issue "Web console": every page in a real browser against a node with real data; screenshots (1280×800) go to
/// docs/screenshots/.
/// </summary>
public sealed class ConsoleTests(ConsoleNode fixture) : IClassFixture<ConsoleNode>
{
    private static readonly string Screenshots = Path.Combine(RepositoryLayout.Root, "docs", "screenshots");

    [Fact]
    public async Task The_overview_lists_the_queues_and_its_chart_moves_when_messages_arrive()
    {
        var page = await fixture.OpenAsync();
        await Assertions.Expect(page.Locator("table[data-table=queues]")).ToContainTextAsync("OMS");
        await Assertions.Expect(page.Locator("table[data-table=members]")).ToContainTextAsync("Up");
        var chart = page.Locator("[data-chart=OMS]");
        var before = int.Parse(await chart.GetAttributeAsync("data-received") ?? "0");
        var pointsBefore = await chart.Locator("polyline[data-series='received/s']").GetAttributeAsync("points");

        for (var i = 0; i < 5; i++)
        {
            var order = File.ReadAllText(RepositoryLayout.Sample("oms/order-new.json")).Replace("SF-ORD-20240211-12345", $"SF-CONSOLE-{i}");
            (await fixture.PostAsync("/api/queues/OMS/messages", order)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        // The page refreshes itself (every 5 s): no reload.
        await page.WaitForFunctionAsync($"() => Number(document.querySelector('[data-chart=OMS]').dataset.received) >= {before + 5}",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        (await chart.Locator("polyline[data-series='received/s']").GetAttributeAsync("points")).Should().NotBe(pointsBefore);
        await Assertions.Expect(page.Locator("table[data-table=queues] tr", new PageLocatorOptions { HasText = "OMS" }).First).ToContainTextAsync("Embedded");
        await Screenshot(page, "overview");
    }

    [Fact]
    public async Task A_dead_letter_is_found_opened_shown_as_text_and_requeued_and_then_succeeds()
    {
        var csv = fixture.Files.File("late-arrival.csv");
        var message = JsonNode.Parse(File.ReadAllText(RepositoryLayout.Sample("mediation/mediation-request.json")))!.AsObject();
        message["file_location"] = csv;
        message["tenant_name"] = "<script>window.__o2xInjected = 1</script><img src=x onerror=\"window.__o2xInjected = 2\">";
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/queues/MEDIATION/messages")
        {
            Content = new StringContent(message.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Message-Id", "console-med-1");
        var failed = await fixture.Http.SendAsync(request);
        failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError, "the file has not arrived: retried, then dead-lettered");

        var page = await fixture.OpenAsync("#/dead-letters", admin: true);
        await page.SelectOptionAsync("form[data-filters] select[name=queue]", "MEDIATION");
        await page.ClickAsync("form[data-filters] button[type=submit]");
        var row = page.Locator("table[data-table=dead-letters] tbody tr", new PageLocatorOptions { HasText = "console-med-1" });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Screenshot(page, "dead-letters");
        await row.Locator("a").ClickAsync();

        var body = page.Locator("pre[data-body]");
        await Assertions.Expect(body).ToContainTextAsync("<script>window.__o2xInjected = 1</script>");
        (await page.EvaluateAsync<bool>("() => window.__o2xInjected === undefined")).Should().BeTrue("the body is shown as text, never run");
        (await page.Locator("main script, main img").CountAsync()).Should().Be(0);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("RetryableException");
        await Screenshot(page, "dead-letter");

        File.WriteAllText(csv, CdrFiles.McmVoiceHeader + "\nC1,+50611,+50622,2024-02-01T08:00:00Z,185,ACC-CONSOLE,CELL-1\n");
        await page.ClickAsync("button[data-action=requeue]");
        await page.ClickAsync("form[data-confirm] button[type=submit]");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("REQUEUED");

        var job = await Eventually.ReturnsAsync(async () => JsonNode.Parse(await fixture.Http.GetStringAsync("/api/mediation")),
            jobs => jobs!["items"]!.AsArray().Any(j => j!["job_id"]!.GetValue<string>() == "console-med-1" && j["status"]!.GetValue<string>() == "COMPLETED"),
            TimeSpan.FromSeconds(30), "the requeued mediation job completes");
        job!["items"]!.AsArray().Single(j => j!["job_id"]!.GetValue<string>() == "console-med-1")!["stored"]!.GetValue<long>().Should().Be(1);
    }

    [Fact]
    public async Task An_order_is_found_and_its_timeline_shows_every_step_and_its_account_the_invoice()
    {
        var orderId = await fixture.Http.InvoicedAccountAsync("ACC-CONSOLE-1", "SF-CONSOLE-T");

        var page = await fixture.OpenAsync("#/orders");
        await page.FillAsync("form[data-search] input[name=id]", "SF-CONSOLE-T");
        await page.ClickAsync("form[data-search] button[type=submit]");
        await page.ClickAsync($"main a:text-is('{orderId}')");
        var steps = page.Locator("ol[data-timeline] li");
        await Assertions.Expect(steps).ToHaveCountAsync(5);
        (await steps.EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.step)"))
            .Should().Equal("RECEIVED", "PROVISIONING", "COMPLETED", "BILLED", "INVOICED");
        await Screenshot(page, "order");

        await page.ClickAsync("main a:text-is('ACC-CONSOLE-1')");
        await Assertions.Expect(page.Locator("table[data-table=invoices]")).ToContainTextAsync("INV-ACC-CONSOLE-1-0001");
        await Assertions.Expect(page.Locator("table[data-table=charges]")).ToContainTextAsync("99");
        await Screenshot(page, "account");
    }

    [Fact]
    public async Task A_stuck_order_is_listed_and_an_operator_retries_its_provisioning_from_its_page()
    {
        var orderId = fixture.StuckOrderId;
        await Eventually.TrueAsync(async () => (await fixture.Http.GetStringAsync("/api/orders/stuck")).Contains($"\"{orderId}\""),
            TimeSpan.FromSeconds(60), "the unanswered order flagged STUCK and listed");

        var page = await fixture.OpenAsync("#/orders", admin: true);
        await page.ClickAsync($"main a:text-is('{orderId}')");
        await Assertions.Expect(page.Locator("[data-stuck]")).ToContainTextAsync("PRQ-" + orderId);
        await Screenshot(page, "stuck-order");
        await page.ClickAsync("button[data-action=retry-provisioning]");
        await page.ClickAsync("form[data-confirm] button[type=submit]");
        await Assertions.Expect(page.Locator("p.notice")).ToContainTextAsync("Provisioning requested again.");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync($"PRQ-{orderId}-R1");
        var order = await (await fixture.Http.GetAsync("/api/orders/" + orderId)).ReadJson();
        order["provisioning_request_id"]!.GetValue<string>().Should().Be($"PRQ-{orderId}-R1");
        order["timeline"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).Should().StartWith(["RECEIVED", "PROVISIONING", "STUCK", "PROVISIONING"]);
    }

    [Fact]
    public async Task The_jobs_page_shows_bulk_and_mediation_jobs_with_progress()
    {
        var csv = fixture.Files.File("calls.csv");
        CdrFiles.WriteMcmVoice(csv, 1, 300, accounts: 3);
        var mediation = JsonNode.Parse(File.ReadAllText(RepositoryLayout.Sample("mediation/mediation-request.json")))!.AsObject();
        mediation["file_location"] = csv;
        (await fixture.PostAsync("/api/queues/MEDIATION/messages", mediation.ToJsonString())).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await fixture.Http.InvoicedAccountAsync("ACC-CONSOLE-2", "SF-CONSOLE-J");
        var payloads = new JsonArray(Enumerable.Range(0, 120).Select(i => (JsonNode)new JsonObject
        {
            ["account_id"] = i % 10 == 0 ? "ACC-NOBODY" : "ACC-CONSOLE-2", ["amount"] = 1m, ["currency"] = "USD", ["reason"] = "console " + i,
        }).ToArray());
        var job = new JsonObject { ["id"] = "CONSOLE-BULK", ["api_name"] = "CREATE_ADJUSTMENT", ["payloads"] = payloads };
        (await fixture.PostAsync("/api/bulk", job.ToJsonString())).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var page = await fixture.OpenAsync("#/jobs");
        var bulkRow = page.Locator("table[data-table=bulk-jobs] tr", new PageLocatorOptions { HasText = "CONSOLE-BULK" });
        await Assertions.Expect(bulkRow).ToContainTextAsync("COMPLETED");
        await Assertions.Expect(bulkRow.Locator("[role=progressbar]")).ToHaveAttributeAsync("aria-valuenow", "120");
        await Assertions.Expect(page.Locator("table[data-table=mediation-jobs]")).ToContainTextAsync("COMPLETED");
        await Screenshot(page, "jobs");
    }

    [Fact]
    public async Task The_billing_page_starts_a_run_and_shows_each_accounts_invoice_with_its_pdf()
    {
        await fixture.Http.InvoicedAccountAsync("ACC-CONSOLE-3", "SF-CONSOLE-B");

        // A change: on the admin listener, where a local operator needs no token.
        var page = await fixture.OpenAsync("#/billing", admin: true);
        await page.FillAsync("form[data-form=bill-run] input[name=period]", "2024-03");
        await page.FillAsync("form[data-form=bill-run] input[name=account]", "ACC-CONSOLE-3");
        await page.ClickAsync("form[data-form=bill-run] button[type=submit]");
        var accounts = page.Locator("table[data-table=bill-run-accounts]");
        await Assertions.Expect(accounts).ToContainTextAsync("INVOICED");
        await Assertions.Expect(accounts).ToContainTextAsync("INV-ACC-CONSOLE-3-202403");
        // 11-31 March (the order charged 11 Feb - 10 Mar): 50 × 21/31 = 33.87.
        await Assertions.Expect(accounts).ToContainTextAsync("33.87");
        var pdf = accounts.Locator("a[data-pdf]");
        (await pdf.GetAttributeAsync("href")).Should().Be("/api/accounts/ACC-CONSOLE-3/invoices/INV-ACC-CONSOLE-3-202403/pdf");
        var download = await fixture.Http.GetAsync((await pdf.GetAttributeAsync("href"))!);
        download.Content.Headers.ContentType!.MediaType.Should().Be("application/pdf");
        (await page.Locator("main").InnerTextAsync()).Should().NotContain("null", "absent values are not written out");
        await Screenshot(page, "bill-run");

        await page.ClickAsync("nav a[data-page=billing]");
        await Assertions.Expect(page.Locator("table[data-table=bill-runs]")).ToContainTextAsync("2024-03");
        await Assertions.Expect(page.Locator("table[data-table=bill-runs]")).ToContainTextAsync("COMPLETED");
        await Screenshot(page, "billing");
    }

    [Fact]
    public async Task The_console_is_served_with_a_strict_policy_and_other_sites_cannot_make_changes_through_it()
    {
        var index = await fixture.Http.GetAsync("/");
        index.StatusCode.Should().Be(HttpStatusCode.OK);
        index.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("script-src 'self'");

        var crossSite = new HttpRequestMessage(HttpMethod.Post, "/api/deadletters/requeue");
        crossSite.Headers.Add("Origin", "http://evil.example");
        (await fixture.AdminHttp.SendAsync(crossSite)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var sameSite = new HttpRequestMessage(HttpMethod.Post, "/api/deadletters/requeue?queue=NO-SUCH-QUEUE");
        sameSite.Headers.Add("Origin", fixture.Node.AdminAddress!.GetLeftPart(UriPartial.Authority));
        (await fixture.AdminHttp.SendAsync(sameSite)).StatusCode.Should().Be(HttpStatusCode.OK, "the node's own console on the admin listener");
        var publicListener = new HttpRequestMessage(HttpMethod.Post, "/api/deadletters/requeue?queue=NO-SUCH-QUEUE");
        publicListener.Headers.Add("Origin", fixture.Node.BaseAddress.GetLeftPart(UriPartial.Authority));
        (await fixture.Http.SendAsync(publicListener)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "changes on the public listener need the token");
    }

    private static async Task Screenshot(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png") });
    }
}
