using System.Net;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using O2X.Actors.Sharding;
using O2X.Host.Testing;
using O2X.Testing;

namespace O2X.Host.Tests;

/// <summary>Orders passivate on their own, shorter window; accounts keep theirs; a passivated order still answers.</summary>
public sealed class EntityPassivationTests() : NodeTest(new Dictionary<string, string?>
{
    ["O2X:Entities:OrderPassivateIdleAfter"] = "00:00:01",
    ["O2X:Entities:PassivateIdleAfter"] = "00:10:00",
})
{
    [Fact]
    public async Task An_idle_order_is_stopped_after_its_own_window_while_its_account_stays_and_the_order_still_answers()
    {
        var placed = await Http.SendAsync(HttpJson.Post("/api/queues/OMS/messages", HttpJson.SeedSample("oms/order-new.json")));
        placed.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var registry = Node.Services.GetRequiredService<ActorRegistry>();
        var orders = registry.Get<OrderRegion>();
        var accounts = registry.Get<AccountRegion>();

        // The order may be touched again by what follows its placement (provisioning): wait until it has been idle long enough.
        await Eventually.TrueAsync(async () => await LiveEntities(orders) == 0, TimeSpan.FromSeconds(60),
            "the order entity should be passivated after one idle second");

        (await LiveEntities(accounts)).Should().Be(1, "accounts keep the ten-minute window");
        var order = await (await Http.GetAsync("/api/orders/ORD-20240211-001")).ReadJson();
        order["details"]!["account_id"]!.GetValue<string>().Should().Be("ACC-1001", "a passivated order recovers from its events");
    }

    private static async Task<int> LiveEntities(IActorRef region) =>
        (await region.Ask<ShardRegionStats>(GetShardRegionStats.Instance, TimeSpan.FromSeconds(10))).Stats.Values.Sum();
}
