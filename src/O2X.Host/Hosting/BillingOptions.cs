namespace O2X.Host.Hosting;

/// <summary>The monthly bill run (<c>O2X:Billing</c>).</summary>
internal sealed class BillingOptions
{
    public const string Section = "O2X:Billing";

    /// <summary>Run the bill-run coordinator (one per cluster, a singleton on an entities node): manual runs need it too.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Bill every cycle that ended, on the schedule below; off, runs start only by hand (API, <c>o2x billing run</c>).</summary>
    public bool ScheduleEnabled { get; set; } = true;

    /// <summary>How often the schedule looks for cycles that ended (one scheduled run per period per day at most).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Tax as a fraction of the subtotal (0.2 = 20 %); 0 unless configured — O2X is not a tax engine.</summary>
    public decimal TaxRate { get; set; }

    /// <summary>The currency of an account with no priced subscription (usage-only).</summary>
    public string Currency { get; set; } = "USD";

    /// <summary>Days from an invoice's issue to its due date.</summary>
    public int PaymentTermDays { get; set; } = Actors.Accounts.Billing.PaymentTermDays;

    /// <summary>Accounts closed per database transaction.</summary>
    public int BatchSize { get; set; } = Actors.Invoicing.BillRunner.DefaultBatchSize;

    /// <summary>A pause between batches, to spread a large run's load on the database over time (none by default).</summary>
    public TimeSpan PauseBetweenBatches { get; set; } = TimeSpan.Zero;

    public IEnumerable<string> Validate()
    {
        if (BatchSize is < 1 or > 5000) yield return $"{Section}:BatchSize must be from 1 to 5000 (was {BatchSize}).";
        if (PauseBetweenBatches < TimeSpan.Zero || PauseBetweenBatches > TimeSpan.FromMinutes(1))
            yield return $"{Section}:PauseBetweenBatches must be from 0 to 00:01:00 (was {PauseBetweenBatches}).";
        if (CheckInterval < TimeSpan.FromSeconds(1) || CheckInterval > TimeSpan.FromDays(1))
            yield return $"{Section}:CheckInterval must be between 00:00:01 and 1.00:00:00 (was {CheckInterval}).";
        if (TaxRate is < 0m or > 1m) yield return $"{Section}:TaxRate must be a fraction from 0 to 1 (was {TaxRate}).";
        if (!Actors.Messaging.Iso4217.IsKnown(Currency)) yield return $"{Section}:Currency must be an ISO-4217 code (was '{Currency}').";
        if (PaymentTermDays is < 0 or > 365) yield return $"{Section}:PaymentTermDays must be from 0 to 365 (was {PaymentTermDays}).";
    }

    public Actors.Invoicing.BillingTerms Terms => new(TaxRate, Currency, PaymentTermDays);
}
