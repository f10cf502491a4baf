namespace O2X.Host.Ingestion;

/// <summary>The O2X queue names of seed §3.1.</summary>
public static class QueueNames
{
    public const string Oms = "OMS";
    public const string ProvisioningResponse = "PROVISIONING_RESPONSE";
    public const string McmBillingOmsResponse = "MCM_BILLING_OMS_RESPONSE";
}
