using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;
using O2X.Actors.Serialization;
using O2X.Testing;

namespace O2X.Bench;

/// <summary>
/// The orders of a run (seed §6.1 order, unique correlation ids, three orders per account) and the events each produces.
/// </summary>
/// <remarks>
/// An account's three orders are <see cref="AccountStride"/> orders apart (orders n, n + 128 and n + 256 of each block of
/// 384), more than the clients in flight. O2X handles one message per account at a time (ordering per key), so orders of
/// one account sent back to back made about two clients in three wait behind another client's order of the same account:
/// the figure measured that wait, not the node. Every third order still opens an account.
/// </remarks>
internal static class OrderWorkload
{
    public const int OrdersPerAccount = 3;

    /// <summary>Above every concurrency the benchmarks use.</summary>
    public const int DefaultAccountStride = 128;

    /// <summary>
    /// Orders between two orders of one account; 1 sends an account's orders back to back (<c>orders-http --account-stride 1</c>,
    /// the workload before 2026-12-04).
    /// </summary>
    public static int AccountStride { get; set; } = DefaultAccountStride;

    private static readonly string Seed = File.ReadAllText(RepositoryLayout.Sample("oms/order-new.json"));

    private const string CorrelationMark = "@@CORRELATION@@";
    private const string AccountMark = "@@ACCOUNT@@";

    /// <summary>
    /// The seed order with its two fields marked, serialized once: a body is the text around the marks and the two values. The
    /// soak builds a body per order on the cores the node uses, and parsing and serializing the seed each time cost more CPU
    /// than sending it. The static constructor checks it against the parsed seed.
    /// </summary>
    private static readonly (string Before, string Between, string After, bool CorrelationFirst) Template = BuildTemplate();

    private static (string, string, string, bool) BuildTemplate()
    {
        var order = JsonNode.Parse(Seed)!.AsObject();
        order["correlation_id"] = CorrelationMark;
        order["account_id"] = AccountMark;
        var text = order.ToJsonString();
        var correlation = text.IndexOf(CorrelationMark, StringComparison.Ordinal);
        var account = text.IndexOf(AccountMark, StringComparison.Ordinal);
        var (first, firstMark, second, secondMark) = correlation < account
            ? (correlation, CorrelationMark, account, AccountMark)
            : (account, AccountMark, correlation, CorrelationMark);
        return (text[..first], text[(first + firstMark.Length)..second], text[(second + secondMark.Length)..], correlation < account);
    }

    public static string Body(int n)
    {
        var correlation = $"BENCH-{n:0000000}";
        var account = $"ACC-B{AccountOf(n):000000}";
        var (first, second) = Template.CorrelationFirst ? (correlation, account) : (account, correlation);
        return string.Concat(Template.Before, first, Template.Between, second, Template.After);
    }

    static OrderWorkload()
    {
        foreach (var n in new[] { 0, 1, 383, 1_234_567 })
            if (Body(n) != BodyParsed(n)) throw new InvalidOperationException($"The template's body of order {n} differs from the seed's.");
    }

    /// <summary>The body as the seed parsed and changed field by field (what <see cref="Body"/> must equal).</summary>
    private static string BodyParsed(int n)
    {
        var order = JsonNode.Parse(Seed)!.AsObject();
        order["correlation_id"] = $"BENCH-{n:0000000}";
        order["account_id"] = $"ACC-B{AccountOf(n):000000}";
        return order.ToJsonString();
    }

    /// <summary>The account of order <paramref name="n"/>: in each block of <c>3 × AccountStride</c> orders, order i goes to the block's account i mod stride.</summary>
    public static int AccountOf(int n) => n / (OrdersPerAccount * AccountStride) * AccountStride + n % AccountStride;

    /// <summary>The journal rows O2X writes for these orders, serialized exactly as O2X serializes them.</summary>
    public static IReadOnlyList<JournalBaseline.Row> JournalRows(int orders)
    {
        using var system = ActorSystem.Create("bench-serializer");
        var serializer = new O2XSerializer((ExtendedActorSystem)system);
        var rows = new List<JournalBaseline.Row>(orders * 5);
        var at = DateTimeOffset.UtcNow;
        var accountSequences = new Dictionary<string, long>();
        void Add(string pid, long seq, object e, bool tagged) =>
            rows.Add(new JournalBaseline.Row(pid, seq, serializer.Manifest(e), serializer.ToBinary(e), tagged));

        for (var n = 0; n < orders; n++)
        {
            var body = Body(n);
            var message = (OmsMessage.Order)OmsMessageParser.Parse(Encoding.UTF8.GetBytes(body));
            var details = message.Details;
            var orderId = OrderNumberingState.FormatOrderId("20240211", n + 1);
            var intake = new IntakeRecord($"bench-{n}", "OMS", details.CorrelationId, body, false, at);
            var accountPid = "account-" + details.AccountId;
            var accountSeq = accountSequences.GetValueOrDefault(accountPid);

            Add("order-numbers-20240211", n + 1, new OrderNumberAllocated("20240211", details.CorrelationId!, n + 1), false);
            if (accountSeq == 0) Add(accountPid, ++accountSeq, new AccountOpened(details.AccountId, intake.MessageId, orderId, at), false);
            Add(accountPid, ++accountSeq, new SubscriptionChangesRequested(details.AccountId, intake.MessageId, orderId, SubscriptionRules.ChangesOf(details), at), false);
            accountSequences[accountPid] = accountSeq;
            Add("order-" + orderId, 1, new OrderReceived(orderId, intake, details, at), true);
            Add("order-" + orderId, 2, new ProvisioningRequested(orderId, intake.MessageId, "PRQ-" + orderId, details.AccountId, details.OrderType,
                details.Services, details.CorrelationId, at), true);
        }

        system.Terminate().Wait();
        return rows;
    }
}
