namespace O2X.Host.Ingestion;

/// <summary>The O2X queue names of seed §3.</summary>
public static class QueueNames
{
    public const string Oms = "OMS";
}
