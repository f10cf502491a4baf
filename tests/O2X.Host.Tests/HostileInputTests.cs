using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>
/// Issue "Hostile input and least privilege": one test per defect class a probe of a node found, through HTTP
/// (the broker side of the same classes is in O2X.IntegrationTests.HostileBrokerInputTests).
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private const string Pan = "4111 1111 1111 1111";
    private readonly TempDirectory _data = new();
    private readonly TempDirectory _root = new();
    private readonly TempDirectory _outside = new();
    private readonly CapturedLogs _logs = new();
    private O2XNodeFactory _node = null!;
    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _node = new O2XNodeFactory(new Dictionary<string, string?>
        {
            ["O2X:Usage:Files:Roots:0"] = _root.Path,
            ["O2X:Bindings:MEDIATION:Retry:InitialDelay"] = "00:00:00.01",
            ["O2X:Bindings:MEDIATION:Retry:MaxDelay"] = "00:00:00.02",
            ["O2X:Bindings:MEDIATION:Retry:MaxRedeliveries"] = "2",
            ["O2X:Bindings:MEDIATION:CircuitBreaker:MaxFailures"] = "2",
        }, sqlitePath: _data.File("o2x.db"), logs: _logs);
        _http = _node.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _data.Dispose();
        _root.Dispose();
        _outside.Dispose();
    }

    // 1. MEDIATION reads only regular files inside its roots, and says nothing about anything else.

    [Fact]
    public async Task Mediation_refuses_files_outside_its_roots_links_out_of_them_fifos_and_directories_alike()
    {
        var secret = Path.Combine(_outside.Path, "secret.csv");
        await File.WriteAllTextAsync(secret, "record_id,calling_number\nx,y\n");
        File.CreateSymbolicLink(Path.Combine(_root.Path, "link.csv"), secret);
        File.CreateSymbolicLink(Path.Combine(_root.Path, "zero.csv"), "/dev/zero");
        Directory.CreateDirectory(Path.Combine(_root.Path, "dir.csv"));
        var fifo = Path.Combine(_root.Path, "fifo.csv");
        await Commands.RunAsync("mkfifo", [fifo], TimeSpan.FromSeconds(10));

        var answers = new Dictionary<string, JsonNode>();
        foreach (var location in new[]
                 {
                     "/etc/passwd", "file:///etc/passwd", "/etc/no-such-file", secret, _root.File("../" + Path.GetFileName(_outside.Path) + "/secret.csv"),
                     _root.File("link.csv"), "link.csv", _root.File("zero.csv"), "/proc/self/environ", _root.File("dir.csv"), fifo, "file://otherhost/etc/passwd",
                 })
        {
            var response = await _http.PostMessageAsync("MEDIATION", Mediation(location));
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, location);
            answers[location] = await response.ReadJson();
        }

        answers.Values.Should().OnlyContain(a => a["error_code"]!.GetValue<string>() == "LOCATION_NOT_ALLOWED");
        // The same words whether the file exists or not: no existence oracle.
        Detail(answers["/etc/passwd"], "/etc/passwd").Should().Be(Detail(answers["/etc/no-such-file"], "/etc/no-such-file"));
        answers.Values.Should().OnlyContain(a => !a["detail"]!.GetValue<string>().Contains("root:"));
        (await (await _http.GetAsync("/api/mediation")).Content.ReadAsStringAsync()).Should().NotContain("passwd", "nothing was started for a refused location");
        await ReadyAsync();
    }

    [Fact]
    public async Task Mediation_reads_a_regular_file_inside_its_root_by_absolute_or_relative_path()
    {
        CdrFiles.WriteMcmVoice(_root.File("day.csv"), 1, 3);

        var absolute = await _http.PostMessageAsync("MEDIATION", Mediation(_root.File("day.csv")), "abs-1");
        var relative = await _http.PostMessageAsync("MEDIATION", Mediation("day.csv"), "rel-1");

        absolute.StatusCode.Should().Be(HttpStatusCode.Accepted, await absolute.Content.ReadAsStringAsync());
        (await absolute.ReadJson())["result"]!["stored"]!.GetValue<string>().Should().Be("3");
        relative.StatusCode.Should().Be(HttpStatusCode.Accepted, await relative.Content.ReadAsStringAsync());
        (await relative.ReadJson())["result"]!["duplicates"]!.GetValue<string>().Should().Be("3", "the same file, named relative to the root");
    }

    // 2. A message's own defect goes to the error destination at once: no retries, no breaker, readiness stays.

    [Fact]
    public async Task Defective_messages_are_refused_at_once_and_never_open_the_breaker_or_cost_readiness()
    {
        var longRow = "record_id,calling_number,called_number,start_time,duration_seconds,account_id,cell_id\n" + new string('9', 70_000) + "\n";
        await File.WriteAllTextAsync(_root.File("long.csv"), longRow);

        for (var i = 0; i < 4; i++)
        {
            var response = await _http.PostMessageAsync("MEDIATION", Mediation("long.csv"), $"long-{i}");
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, "an over-long row can never be read");
            (await response.ReadJson())["error_code"]!.GetValue<string>().Should().Be("INVALID_MESSAGE");
        }

        for (var i = 0; i < 3; i++)
        {
            // A file that is not there yet is retried (it may arrive), then dead-lettered — without counting against the breaker.
            var missing = await _http.PostMessageAsync("MEDIATION", Mediation($"late-{i}.csv"), $"late-{i}");
            (await missing.ReadJson())["error_code"]!.GetValue<string>().Should().Be("DEAD_LETTERED");
        }

        await ReadyAsync();
        _logs.Lines.Should().NotContain(l => l.Level >= LogLevel.Error, "a message's failure is a warning about the message, not an error of the node");
    }

    // 3. Money has bounds and a scale; stored history that would overflow still reads.

    [Theory]
    [InlineData("50000000000000000000000000000", "monthly_recurring_charge")]
    [InlineData("79228162514264337593543950335", "one_time_charge")]
    [InlineData("1000000000.01", "one_time_charge")]
    [InlineData("99.001", "monthly_recurring_charge")]
    [InlineData("1e400", "monthly_recurring_charge")]
    public async Task Order_amounts_beyond_the_bounds_or_the_currency_scale_are_refused(string amount, string field)
    {
        var order = Order("ACC-MONEY-1", "money-" + field + amount.Length);
        order = order.Replace("\"" + field + "\": " + (field == "one_time_charge" ? "99.00" : "50.00"), "\"" + field + "\": " + amount);

        var response = await _http.PostMessageAsync("OMS", order);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, order);
        var problem = await response.ReadJson();
        problem["error_code"]!.GetValue<string>().Should().Be("INVALID_FIELD");
        problem["detail"]!.GetValue<string>().Should().Contain("services[0].pricing." + field);
    }

    [Fact]
    public async Task Yen_prices_have_no_decimals_and_quantities_have_a_bound()
    {
        var yen = Order("ACC-JPY-1", "jpy-1").Replace("\"USD\"", "\"JPY\"").Replace("50.00", "50.50");
        var huge = Order("ACC-QTY-1", "qty-1").Replace("\"quantity\": 1", "\"quantity\": 2000000000");

        ((await (await _http.PostMessageAsync("OMS", yen)).ReadJson())["detail"]!.GetValue<string>()).Should().Contain("0 decimal places");
        ((await (await _http.PostMessageAsync("OMS", huge)).ReadJson())["detail"]!.GetValue<string>()).Should().Contain("quantity");
    }

    // 4. Card numbers are refused on every queue and kept nowhere in clear.

    [Theory]
    [InlineData("OMS", "oms/account-update.json", "updates.payment_method.token")]
    [InlineData("OMS", "oms/order-new.json", "extended_data.notes")]
    [InlineData("OMS", "oms/order-new.json", "object_type")]
    [InlineData("PROVISIONING_RESPONSE", "provisioning/response-failed.json", "error.message")]
    [InlineData("MEDIATION", "mediation/mediation-request.json", "tenant_name")]
    public async Task A_card_number_in_any_field_is_refused_and_stored_nowhere_in_clear(string queue, string sample, string field)
    {
        // Every value sent starts with "card:": wherever that appears again, the value was kept.
        foreach (var (disguise, n) in new[] { Pan, "４１１１１１１１１１１１１１１１", "4111-1111-1111-1111", "4111.1111.1111.1111" }.Select((d, i) => (d, i)))
        {
            var message = JsonNode.Parse(HttpJson.SeedSample(sample))!.AsObject();
            var segments = field.Split('.');
            var parent = segments[..^1].Aggregate((JsonNode)message, (node, name) => node[name]!);
            parent[segments[^1]] = "card: " + disguise;

            var response = await _http.PostMessageAsync(queue, message.ToJsonString(), $"pan-{queue}-{field}-{n}");

            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, disguise);
            var problem = (await response.ReadJson()).AsObject();
            problem["error_code"]!.GetValue<string>().Should().Be("CARD_NUMBER_NOT_ALLOWED");
            problem.Remove("trace_id");
            KeptInClear(problem.ToJsonString()).Should().BeFalse();
        }

        if (queue == "OMS")
        {
            var archive = await _http.OutboxAtLeastAsync("OMS_ARCHIVE", 4);
            var errors = await _http.OutboxAtLeastAsync("OMS_ERROR", 4);
            foreach (var copy in archive.Concat(errors)) KeptInClear(copy.ToJsonString()).Should().BeFalse(copy.ToJsonString());
            errors.Select(e => e["payload"]!).Should()
                .OnlyContain(e => e["errorCode"]!.GetValue<string>() == "CARD_NUMBER_NOT_ALLOWED" && e["originalMessage"]!.GetValue<string>().Contains("sha256"));
        }

        foreach (var row in JournalRows()) KeptInClear(row).Should().BeFalse(row);
        _logs.Lines.Where(l => KeptInClear(l.Text)).Should().BeEmpty();
    }

    /// <summary>Whether a card number sent by the test (all start with <c>card:</c>) is in <paramref name="text"/> in any form.</summary>
    private static bool KeptInClear(string text) => text.Contains("card:") || O2X.Actors.Messaging.CardData.Find(Encoding.UTF8.GetBytes(text)) is not null;

    // 5. Ingestion and bulk take JSON only, and nothing from other sites' pages.

    [Theory]
    [InlineData("/api/queues/OMS/messages")]
    [InlineData("/api/bulk")]
    public async Task Business_writes_take_json_only_and_refuse_other_sites(string url)
    {
        var body = url == "/api/bulk" ? """{"api_name":"CREATE_ADJUSTMENT","payloads":[{"account_id":"ACC-1","amount":-500,"currency":"USD","reason":"x"}]}"""
            : HttpJson.SeedSample("oms/order-new.json");

        var plain = await _http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/plain"));
        var form = await _http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"));
        var crossSite = HttpJson.Post(url, body);
        crossSite.Headers.Add("Origin", "https://evil.example");
        var fetchSite = HttpJson.Post(url, body);
        fetchSite.Headers.Add("Sec-Fetch-Site", "cross-site");

        plain.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        (await plain.ReadJson())["error_code"]!.GetValue<string>().Should().Be("UNSUPPORTED_MEDIA_TYPE");
        form.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        var origin = await _http.SendAsync(crossSite);
        origin.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await origin.ReadJson())["error_code"]!.GetValue<string>().Should().Be("CROSS_SITE_REQUEST");
        (await _http.SendAsync(fetchSite)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await _http.OutboxAsync("OMS_ARCHIVE")).Should().BeEmpty("nothing refused here reached a handler");
    }

    // 6. Admin changes need the token on the public listener, and trust never follows a rebound Host.

    [Fact]
    public async Task Admin_changes_need_the_token_on_the_public_listener_and_a_rebound_host_is_not_trusted()
    {
        const string token = "an-admin-token-of-enough-length";
        await using var publicListener = new O2XNodeFactory(new Dictionary<string, string?> { ["O2X:Admin:Token"] = token }, onAdminListener: false);
        var http = publicListener.CreateClient();

        var leave = await http.PostAsync("/api/cluster/leave", null);
        var read = await http.GetAsync("/api/deadletters");
        var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/deadletters");
        rebound.Headers.Host = "evil.example:9190";
        var reboundAnswer = await http.SendAsync(rebound);
        var withToken = new HttpRequestMessage(HttpMethod.Post, "/api/deadletters/requeue?queue=NONE");
        withToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var tokenAnswer = await http.SendAsync(withToken);

        leave.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a local caller on the public listener (say, through a reverse proxy) cannot stop the node");
        (await http.GetAsync("/health/live")).StatusCode.Should().Be(HttpStatusCode.OK, "the node is still running");
        read.StatusCode.Should().Be(HttpStatusCode.OK, "a local caller may read");
        reboundAnswer.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a name rebound to 127.0.0.1 is not one of the allowed hosts");
        tokenAnswer.StatusCode.Should().NotBe(HttpStatusCode.Unauthorized).And.NotBe(HttpStatusCode.Forbidden);

        await using var untrusting = new O2XNodeFactory(new Dictionary<string, string?> { ["O2X:Admin:TrustLoopback"] = "false" });
        (await untrusting.CreateClient().GetAsync("/api/deadletters")).StatusCode.Should().Be(HttpStatusCode.Unauthorized,
            "with TrustLoopback off even the admin listener wants the token");
    }

    [Fact]
    public async Task A_rebound_page_cannot_purge_even_when_its_origin_matches_its_host()
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, "/api/deadletters/1?reason=evil");
        request.Headers.Host = "evil.example:9190";
        request.Headers.Add("Origin", "http://evil.example:9190");

        var response = await _http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    // 7. Ids are anchored, keys unique, free text bounded.

    [Fact]
    public async Task Ids_with_a_trailing_newline_duplicate_keys_and_overlong_text_are_refused()
    {
        var newlineAccount = Order("ACC-1001\n", "nl-1");
        var newlineOrder = Order("ACC-NL-2", "nl-2").Replace("\"object_type\": \"ORDER\",", "\"object_type\": \"ORDER\", \"order_id\": \"ORD-X\\n\",");
        var duplicate = Order("ACC-DUP-1", "dup-1").Replace("\"account_id\": \"ACC-DUP-1\"", "\"account_id\": \"ACC-DUP-1\", \"account_id\": \"ACC-DUP-2\"");
        var longText = Order("ACC-LONG-1", "long-1").Replace("\"USR-501\"", "\"" + new string('u', 300) + "\"");

        foreach (var (body, code) in new[] { (newlineAccount, "INVALID_FIELD"), (newlineOrder, "INVALID_FIELD"), (duplicate, "INVALID_MESSAGE"), (longText, "INVALID_FIELD") })
        {
            var response = await _http.PostMessageAsync("OMS", body);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, body);
            (await response.ReadJson())["error_code"]!.GetValue<string>().Should().Be(code);
        }

        (await _http.GetAsync("/api/accounts/ACC-DUP-1")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _http.GetAsync("/api/accounts/ACC-DUP-2")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    // 8. A log line carries at most a short excerpt of a value, on one line.

    [Fact]
    public async Task Rejected_values_reach_the_log_short_and_on_one_line()
    {
        var forged = "ORDER\nwarn: O2X[0] forged line " + new string('x', 200);
        var message = Order("ACC-LOG-1", "log-1").Replace("\"object_type\": \"ORDER\"", "\"object_type\": " + System.Text.Json.JsonSerializer.Serialize(forged));

        var response = await _http.PostMessageAsync("OMS", message, "log-1");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var detail = (await response.ReadJson())["detail"]!.GetValue<string>();
        detail.Should().NotContain("\n");
        detail.Length.Should().BeLessThan(300);
        var line = await Eventually.ReturnsAsync(() => Task.FromResult(_logs.Lines.FirstOrDefault(l => l.Text.Contains("log-1"))),
            l => l.Text is not null, TimeSpan.FromSeconds(10), "the refusal is logged");
        line.Text.Should().NotContain("\n").And.Contain("\\n");
        line.Text.Length.Should().BeLessThan(600);
    }

    private static string Detail(JsonNode problem, string location) => problem["detail"]!.GetValue<string>().Replace(location, "<location>");

    private static string Mediation(string location)
    {
        var message = JsonNode.Parse(HttpJson.SeedSample("mediation/mediation-request.json"))!.AsObject();
        message["file_location"] = location;
        return message.ToJsonString();
    }

    private static string Order(string account, string correlation) =>
        HttpJson.SeedSample("oms/order-new.json").Replace("\"ACC-1001\"", System.Text.Json.JsonSerializer.Serialize(account))
            .Replace("SF-ORD-20240211-12345", correlation);

    private async Task ReadyAsync()
    {
        var ready = await _http.GetAsync("/health/ready");
        ready.StatusCode.Should().Be(HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
    }

    private IEnumerable<string> JournalRows()
    {
        using var db = new SqliteConnection($"Data Source={_data.File("o2x.db")};Mode=ReadOnly");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT message FROM journal";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add(Encoding.UTF8.GetString((byte[])reader[0]));
        return rows;
    }
}
