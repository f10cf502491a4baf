using System.Net;
using LinqToDB;
using LinqToDB.Async;
using Microsoft.Extensions.DependencyInjection;
using O2X.Actors.Persistence;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>
/// The node runs the outbox's retention (<c>O2X:Outbox:Retention</c>) as a singleton and counts what it deleted in its metrics.
/// The node keeps a minute, checked every second; the test dates an order's messages back rather than waiting the minute out.
/// </summary>
public sealed class OutboxRetentionNodeTests() : NodeTest(new Dictionary<string, string?>
{
    ["O2X:Outbox:Retention"] = "00:01:00",
    ["O2X:Outbox:RetentionInterval"] = "00:00:01",
})
{
    [Fact]
    public async Task Messages_older_than_the_retention_leave_the_outbox_and_are_counted_while_younger_ones_stay()
    {
        var first = await Http.PostMessageAsync("OMS", HttpJson.SeedSample("oms/order-new.json").Replace("SF-ORD-20240211-12345", "SF-RETAIN-1"));
        first.StatusCode.Should().Be(HttpStatusCode.Accepted, await first.Content.ReadAsStringAsync());
        var archived = await Http.OutboxAtLeastAsync("OMS_ARCHIVE", 1);
        var firstId = archived[0]!["message_id"]!.GetValue<string>();
        await using (var db = await Node.Services.GetRequiredService<O2XDatabase>().OpenAsync())
        {
            (await db.GetTable<O2XTables.OutboxRow>().Where(r => r.MessageId == firstId)
                .Set(r => r.CreatedAt, DateTime.UtcNow - TimeSpan.FromMinutes(5)).UpdateAsync()).Should().Be(1);
        }

        var second = await Http.PostMessageAsync("OMS", HttpJson.SeedSample("oms/order-new.json").Replace("SF-ORD-20240211-12345", "SF-RETAIN-2"));
        second.StatusCode.Should().Be(HttpStatusCode.Accepted, await second.Content.ReadAsStringAsync());

        var left = await Eventually.ReturnsAsync(() => Http.OutboxAsync("OMS_ARCHIVE"),
            items => items.All(m => m!["message_id"]!.GetValue<string>() != firstId) && items.Count == 1, TimeSpan.FromSeconds(30),
            "the dated message deleted, the new order's kept");
        left[0]!["correlation_id"]!.GetValue<string>().Should().Be("SF-RETAIN-2");
        await Eventually.TrueAsync(async () => (await Http.GetStringAsync("/metrics")).Contains("\no2x_outbox_pruned_total 1\n"),
            TimeSpan.FromSeconds(30), "the metric counts the deleted message");
    }
}
