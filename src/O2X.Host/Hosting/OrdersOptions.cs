namespace O2X.Host.Hosting;

/// <summary>Orders (<c>O2X:Orders</c>): how long provisioning may take before an order is flagged STUCK.</summary>
internal sealed class OrdersOptions
{
    public const string Section = "O2X:Orders";

    /// <summary>Run the provisioning watchdog (one per cluster, a singleton on an entities node).</summary>
    public bool WatchdogEnabled { get; set; } = true;

    /// <summary>A provisioning request unanswered for longer than this flags its order STUCK (metric, console list, alert).</summary>
    public TimeSpan ProvisioningTimeout { get; set; } = TimeSpan.FromHours(4);

    /// <summary>How often the watchdog looks for overdue requests.</summary>
    public TimeSpan StuckCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    public IEnumerable<string> Validate()
    {
        if (ProvisioningTimeout < TimeSpan.FromSeconds(1) || ProvisioningTimeout > TimeSpan.FromDays(90))
            yield return $"{Section}:ProvisioningTimeout must be between 00:00:01 and 90.00:00:00 (was {ProvisioningTimeout}).";
        if (StuckCheckInterval < TimeSpan.FromMilliseconds(100) || StuckCheckInterval > TimeSpan.FromHours(1))
            yield return $"{Section}:StuckCheckInterval must be between 00:00:00.1 and 01:00:00 (was {StuckCheckInterval}).";
    }
}
