using System.Net;
using System.Text.Json.Nodes;
using O2X.Host.Testing;

namespace O2X.Host.Tests;

/// <summary>
/// Issue "Hostile input and least privilege": the seed's message shapes on every queue, mutated at random (a field deleted,
/// a type swapped, a boundary number, odd Unicode). Every message ends as 202 or 4xx with an error code — never a 500, a
/// 503 or a dead letter — and afterwards no breaker is open and the node is ready. The seed is fixed: a failure names the
/// message, and the same run reproduces it.
/// </summary>
public sealed class MessageFuzzTests() : NodeTest(new Dictionary<string, string?>
{
    ["O2X:Bindings:MEDIATION:Retry:MaxRedeliveries"] = "1",
    ["O2X:Bindings:MEDIATION:Retry:InitialDelay"] = "00:00:00.01",
})
{
    private const int MutationsPerShape = 45;

    private static readonly (string Queue, string Sample)[] Shapes =
    [
        ("OMS", "oms/order-new.json"),
        ("OMS", "oms/account-update.json"),
        ("PROVISIONING_RESPONSE", "provisioning/response-completed.json"),
        ("PROVISIONING_RESPONSE", "provisioning/response-failed.json"),
        ("MCM_BILLING_OMS_RESPONSE", "provisioning/response-failed.json"),
        ("MEDIATION", "mediation/mediation-request.json"),
        ("USAGE", "usage/usage-batch.json"),
        ("BULK", "bulk/regenerate-invoice.json"),
        ("price-sync", "price-sync/plan-update.json"),
        ("USAGE", "usage/re-rate.json"),
    ];

    private static readonly JsonNode?[] Replacements =
    [
        null, true, 0, -1, 2147483648L, 9223372036854775807L, 1e28, 7.9e28, 1e-30, 0.000000001m, "", " ", "\u0000", "\n", "é",
        "\u202e\u0645", "𝟘𝟙", "\uff14\uff11", "ACC-1001\n", new string('x', 5000), "1e400", "NaN", "-0", "2024-02-30T25:61:00Z",
        new JsonArray(), new JsonObject(), new JsonArray(1, "a", null), "../../../../etc/passwd", "file:///etc/passwd",
    ];

    [Fact]
    public async Task Every_mutated_seed_message_is_accepted_or_refused_with_a_code_and_the_node_stays_ready()
    {
        var random = new Random(20261202);
        var failures = new List<string>();
        var sent = 0;
        foreach (var (queue, sample) in Shapes)
        {
            var original = JsonNode.Parse(HttpJson.SeedSample(sample), documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!;
            for (var i = 0; i < MutationsPerShape; i++)
            {
                var message = original.DeepClone();
                var mutations = random.Next(1, 4);
                for (var m = 0; m < mutations; m++) Mutate(message, random);
                var body = message.ToJsonString();
                var response = await Http.PostMessageAsync(queue, body, $"fuzz-{sent++}");
                var answer = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                var code = status >= 400 ? JsonNode.Parse(answer)?["error_code"]?.GetValue<string>() : null;
                if (status == 202 || (status is >= 400 and < 500 && !string.IsNullOrEmpty(code))) continue;
                failures.Add($"{queue} {status} {answer}\n    message: {body}");
            }
        }

        failures.Should().BeEmpty($"{sent} mutated messages: each ends as 202 or 4xx with an error code");
        var breakers = JsonNode.Parse(await (await Http.GetAsync("/health/ready")).Content.ReadAsStringAsync())!;
        breakers["status"]!.GetValue<string>().Should().Be("Healthy", breakers.ToJsonString());
    }

    /// <summary>Picks a random place in the message and deletes it, swaps its type, or puts a boundary value or odd text there.</summary>
    private static void Mutate(JsonNode root, Random random)
    {
        var places = new List<(JsonNode Parent, object Key)>();
        Collect(root, places);
        if (places.Count == 0) return;
        var (parent, key) = places[random.Next(places.Count)];
        var replacement = random.Next(4) == 0 ? null : Replacements[random.Next(Replacements.Length)]?.DeepClone();
        switch (parent, key)
        {
            case (JsonObject o, string name) when replacement is null && random.Next(2) == 0:
                o.Remove(name);
                break;
            case (JsonObject o, string name):
                o[name] = replacement;
                break;
            case (JsonArray a, int index):
                a[index] = replacement;
                break;
        }
    }

    private static void Collect(JsonNode node, List<(JsonNode, object)> places)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o.ToList())
                {
                    places.Add((o, name));
                    if (value is not null) Collect(value, places);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    places.Add((a, i));
                    if (a[i] is { } item) Collect(item, places);
                }

                break;
        }
    }
}
