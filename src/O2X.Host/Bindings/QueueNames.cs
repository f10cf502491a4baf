using O2X.Actors.Hosting;
using O2X.Actors.Messaging.Outbox;

namespace O2X.Host.Bindings;

/// <summary>The O2X queue names of seed §3.1.</summary>
internal static class QueueNames
{
    public const string Oms = "OMS";
    public const string ProvisioningResponse = "PROVISIONING_RESPONSE";
    public const string McmBillingOmsResponse = "MCM_BILLING_OMS_RESPONSE";
    public const string Mediation = "MEDIATION";
    public const string Usage = "USAGE";
    public const string PriceSync = "price-sync";
    public const string Bulk = "BULK";

    /// <summary>The queues this node can bind, with their default binding (overridable under <c>O2X:Bindings:{QUEUE}</c>).</summary>
    public static readonly IReadOnlyDictionary<string, Func<BindingOptions>> Defaults = new Dictionary<string, Func<BindingOptions>>
    {
        [Oms] = () => new BindingOptions { Handler = QueueHandlers.OmsReceiver, ErrorDestination = Destinations.OmsError, DeadLetterDestination = Oms + ".DLQ" },
        [ProvisioningResponse] = () => new BindingOptions
        {
            Handler = QueueHandlers.OrderUpdater, ErrorDestination = Destinations.OmsError, DeadLetterDestination = ProvisioningResponse + ".DLQ",
        },
        [McmBillingOmsResponse] = () => new BindingOptions
        {
            Handler = QueueHandlers.OrderUpdater, ErrorDestination = Destinations.OmsError, DeadLetterDestination = McmBillingOmsResponse + ".DLQ",
        },
        [Mediation] = () => new BindingOptions
        {
            Handler = Actors.Usage.MediationProcessor.HandlerName, ErrorDestination = Mediation + "_ERROR", DeadLetterDestination = Mediation + ".DLQ",
            // One message is a whole CDR file: an attempt may take minutes, and files are worked on a few at a time.
            AttemptTimeout = TimeSpan.FromMinutes(30), Concurrency = 2, Prefetch = 2,
        },
        [Usage] = () => new BindingOptions
        {
            Handler = Actors.Usage.UsageProcessor.HandlerName, ErrorDestination = Usage + "_ERROR", DeadLetterDestination = Usage + ".DLQ",
            // A batch of up to 10,000 records is one transaction.
            AttemptTimeout = TimeSpan.FromMinutes(5), Prefetch = 10,
        },
        [Bulk] = () => new BindingOptions
        {
            Handler = Actors.Bulk.BulkProcessor.HandlerName, ErrorDestination = Bulk + "_ERROR", DeadLetterDestination = Bulk + ".DLQ",
            // Seed §4.3: three consumers; a message is up to 100 account commands.
            Concurrency = 3, Prefetch = 3, AttemptTimeout = TimeSpan.FromMinutes(2),
        },
        [PriceSync] = () => new BindingOptions
        {
            Handler = Actors.Usage.PriceSyncProcessor.HandlerName, ErrorDestination = "PRICE_SYNC_ERROR", DeadLetterDestination = PriceSync + ".DLQ",
        },
    };

    /// <summary>A custom queue's defaults (seed §3.3): refused messages to <c>{QUEUE}_ERROR</c>, dead letters to <c>{QUEUE}.DLQ</c>.</summary>
    public static BindingOptions CustomDefaults(string queue) =>
        new() { Handler = null, ErrorDestination = queue + "_ERROR", DeadLetterDestination = queue + ".DLQ" };
}
