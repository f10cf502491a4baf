using System.Collections.Immutable;
using O2X.Actors.Accounts;
using O2X.Actors.Invoicing;

namespace O2X.Actors.Tests;

/// <summary>Issue "Monthly billing run": one cycle's invoice, with every amount computed by hand in the comments.</summary>
public class CycleBillingTests
{
    private static readonly BillingPeriod March = BillingPeriod.Of(new DateOnly(2024, 3, 1), 1); // 31 days
    private static readonly DateTimeOffset IssuedAt = new(2024, 4, 1, 2, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset Day(int month, int day, int hour = 12) => new(2024, month, day, hour, 0, 0, TimeSpan.Zero);

    private static Subscription Internet(decimal mrc, SubscriptionStatus status, DateTimeOffset since, int quantity = 1) =>
        new("ORD-1-S1", "ORD-1", "INTERNET_100", quantity, mrc, "USD", status, since);

    private static AccountState Account(params Subscription[] history) =>
        AccountState.Empty("ACC-1") with { IsOpen = true, SubscriptionHistory = [.. history], Subscriptions = [history[^1]] };

    private static CycleOutcome.Invoiced Close(AccountState account, IReadOnlyList<UsageCharge>? usage = null, IReadOnlyList<Discount>? planDiscounts = null,
        BillingTerms? terms = null) =>
        CycleBilling.Close(account, March, usage ?? [], planDiscounts ?? [], terms ?? BillingTerms.Default, IssuedAt)
            .Should().BeOfType<CycleOutcome.Invoiced>().Subject;

    [Fact]
    public void A_mid_cycle_upgrade_and_a_suspension_are_prorated_to_the_day()
    {
        // 50.00 since February; upgraded to 80.00 on 16 March (counts from that day), suspended 21-25 March, resumed on the 26th.
        var account = Account(
            Internet(50m, SubscriptionStatus.Active, Day(2, 11)),
            Internet(80m, SubscriptionStatus.Active, Day(3, 16, 18)),
            Internet(80m, SubscriptionStatus.Suspended, Day(3, 21, 1)),
            Internet(80m, SubscriptionStatus.Active, Day(3, 26, 23)));

        var invoice = Close(account).Invoice;

        // 1-15 March: 50 × 15/31 = 24.1935 → 24.19; 16-20: 80 × 5/31 = 12.9032 → 12.90; 26-31: 80 × 6/31 = 15.4838 → 15.48.
        invoice.Lines.Select(l => (l.Kind, l.Amount)).Should().Equal(
            (ChargeKind.Recurring, 24.19m), (ChargeKind.Recurring, 12.90m), (ChargeKind.Recurring, 15.48m));
        invoice.Lines[0].Description.Should().Contain("2024-03-01 to 2024-03-15 (15/31 days)");
        invoice.Lines[2].Description.Should().Contain("2024-03-26 to 2024-03-31 (6/31 days)");
        invoice.Subtotal.Should().Be(52.57m);
        invoice.Total.Should().Be(52.57m);
        invoice.InvoiceNumber.Should().Be("INV-ACC-1-202403");
        invoice.Cycle!.Period.Should().Be("2024-03");
        invoice.DueDate.Should().Be(new DateOnly(2024, 5, 1));
    }

    [Fact]
    public void Days_an_orders_first_month_charge_covered_are_not_charged_again()
    {
        // Added 11 February: the order charged 11 February - 10 March; March bills 11-31 (21 days): 50 × 21/31 = 33.8709 → 33.87.
        var account = Account(Internet(50m, SubscriptionStatus.Active, Day(2, 11))) with
        {
            Charges = [new Charge("ORD-1-C2", "ORD-1", ChargeKind.Recurring, "INTERNET_100", 1, 50m, 50m, "USD", new DateOnly(2024, 2, 11), new DateOnly(2024, 3, 10), Day(2, 11))],
        };

        Close(account).Invoice.Lines.Should().ContainSingle().Which.Amount.Should().Be(33.87m);
    }

    [Fact]
    public void Removal_ends_the_charge_the_day_it_is_made_and_quantity_multiplies()
    {
        var account = Account(
            Internet(10m, SubscriptionStatus.Active, Day(1, 5), quantity: 3),
            Internet(10m, SubscriptionStatus.Removed, Day(3, 11)));

        // 1-10 March: 3 × 10 × 10/31 = 9.6774 → 9.68.
        Close(account).Invoice.Lines.Should().ContainSingle().Which.Amount.Should().Be(9.68m);
    }

    [Fact]
    public void Usage_is_billed_per_band_and_discounts_apply_in_their_documented_order()
    {
        var account = Account(Internet(50m, SubscriptionStatus.Active, Day(1, 1))) with
        {
            Discounts =
            [
                new Discount("FIX-5", DiscountKind.FixedAmount, 5m, "USD", new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31)),
                new Discount("PCT-10", DiscountKind.Percentage, 10m, null, new DateOnly(2024, 3, 1), null),
                new Discount("OLD", DiscountKind.Percentage, 50m, null, new DateOnly(2023, 1, 1), new DateOnly(2024, 2, 29)), // ended before March
                new Discount("EUR", DiscountKind.FixedAmount, 1m, "EUR", new DateOnly(2024, 1, 1), null), // another currency: not applied
            ],
        };
        // 1,150 minutes: 100 in the allowance, 1,000 at 0.05 = 50.00, 50 at 0.03 = 1.50.
        IReadOnlyList<UsageCharge> usage =
        [
            new("VOICE", "PLAN-VOICE-STD", "MINUTE", 1000, 0.03m, 50, 1.50m, 1),
            new("VOICE", "PLAN-VOICE-STD", "MINUTE", null, null, 100, 0m, 1),
            new("VOICE", "PLAN-VOICE-STD", "MINUTE", 0, 0.05m, 1000, 50.00m, 2),
        ];
        var planDiscounts = new[] { new Discount("VOICE-20", DiscountKind.Percentage, 20m, null, new DateOnly(2024, 1, 1), null, "loyalty", "PLAN-VOICE-STD") };

        var invoice = Close(account, usage, planDiscounts).Invoice;

        invoice.Lines.Select(l => (l.Kind, l.Quantity, l.Amount)).Should().Equal(
            (ChargeKind.Recurring, 1L, 50.00m),
            (ChargeKind.Usage, 100L, 0m), // allowance first
            (ChargeKind.Usage, 1000L, 50.00m),
            (ChargeKind.Usage, 50L, 1.50m),
            // (1) plan: 20 % of the plan's usage 51.50 = 10.30.
            (ChargeKind.Discount, 1L, -10.30m),
            // (2) account on 50.00 + 51.50 - 10.30 = 91.20: 10 % = 9.12, then 5.00 fixed.
            (ChargeKind.Discount, 1L, -9.12m),
            (ChargeKind.Discount, 1L, -5.00m));
        invoice.Lines[4].Description.Should().Contain("VOICE-20").And.Contain("loyalty");
        invoice.Subtotal.Should().Be(77.08m);
        invoice.Cycle!.Discounts.Should().Be(-24.42m);
    }

    [Fact]
    public void A_fixed_discount_never_takes_the_invoice_below_zero_and_tax_follows_the_configured_rate()
    {
        var account = Account(Internet(3m, SubscriptionStatus.Active, Day(1, 1))) with
        {
            Discounts = [new Discount("BIG", DiscountKind.FixedAmount, 10m, "USD", new DateOnly(2024, 1, 1), null)],
        };
        Close(account).Invoice.Total.Should().Be(0m);

        var taxed = Close(Account(Internet(19.99m, SubscriptionStatus.Active, Day(1, 1))), terms: BillingTerms.Default with { TaxRate = 0.16m }).Invoice;
        taxed.Tax.Should().Be(3.20m); // 19.99 × 0.16 = 3.1984
        taxed.Total.Should().Be(23.19m);
    }

    [Fact]
    public void The_summary_carries_previous_balance_payments_activity_and_the_amount_due()
    {
        var previous = Close(Account(Internet(50m, SubscriptionStatus.Active, Day(1, 1)))).Invoice with
        {
            InvoiceNumber = "INV-ACC-1-202402", Sequence = 2, IssuedAt = Day(3, 1, 2),
        };
        var account = Account(Internet(50m, SubscriptionStatus.Active, Day(1, 1))) with
        {
            // Before: an order invoiced 149.00 (Jan); the February cycle invoiced 50.00 on 1 March.
            Charges =
            [
                new Charge("ORD-1-C1", "ORD-1", ChargeKind.OneTime, "INTERNET_100", 1, 149m, 149m, "USD", null, null, Day(1, 1)),
                new Charge("INV-ACC-1-202402-L1", "", ChargeKind.Recurring, "INTERNET_100", 1, 50m, 50m, "USD", null, null, Day(3, 1, 2)),
                new Charge("ORD-2-C1", "ORD-2", ChargeKind.OneTime, "ROUTER", 1, 20m, 20m, "USD", null, null, Day(3, 5)),
            ],
            Invoices = [previous],
            Ledger =
            [
                new LedgerEntry("PAY-1", LedgerEntryKind.Payment, null, -149m, "USD", null, null, Day(2, 1)), // before the last cycle
                new LedgerEntry("PAY-2", LedgerEntryKind.Payment, null, -50m, "USD", null, null, Day(3, 10)),
                new LedgerEntry("CN-1", LedgerEntryKind.CreditNote, null, -7m, "USD", "outage", null, Day(3, 12)),
            ],
        };

        var invoice = Close(account).Invoice;

        var cycle = invoice.Cycle!;
        // Balance before: 149 + 50 + 20 - 149 - 50 - 7 = 13; + this total 50 = 63 due.
        cycle.AmountDue.Should().Be(63m);
        cycle.PaymentsReceived.Should().Be(50m);
        cycle.Activity.Select(a => (a.ChargeId, a.Amount)).Should().Equal(("ORD-2-C1", 20m), ("CN-1", -7m));
        // What was due after the previous cycle: 63 - 50 - (20 - 7) + 50 = 50.
        cycle.PreviousBalance.Should().Be(50m);
        (cycle.PreviousBalance - cycle.PaymentsReceived + cycle.Activity.Sum(a => a.Amount) + invoice.Total).Should().Be(cycle.AmountDue);
    }

    [Fact]
    public void Nothing_to_bill_an_existing_invoice_and_a_foreign_currency_are_told_apart()
    {
        var idle = AccountState.Empty("ACC-1") with { IsOpen = true };
        CycleBilling.Close(idle, March, [], [], BillingTerms.Default, IssuedAt).Should().BeOfType<CycleOutcome.NothingToBill>();

        var billed = Account(Internet(50m, SubscriptionStatus.Active, Day(1, 1)));
        billed = billed with { Invoices = [Close(billed).Invoice] };
        CycleBilling.Close(billed, March, [], [], BillingTerms.Default, IssuedAt).Should().BeOfType<CycleOutcome.AlreadyBilled>()
            .Which.InvoiceNumber.Should().Be("INV-ACC-1-202403");

        var mixed = Account(Internet(50m, SubscriptionStatus.Active, Day(1, 1)),
            new Subscription("ORD-2-S1", "ORD-2", "TV", 1, 10m, "EUR", SubscriptionStatus.Active, Day(1, 2)));
        CycleBilling.Close(mixed, March, [], [], BillingTerms.Default, IssuedAt).Should().BeOfType<CycleOutcome.Refused>()
            .Which.ErrorCode.Should().Be("CURRENCY_MISMATCH");
    }

    [Theory]
    [InlineData("2024-02", 1, "2024-02-01", "2024-03-01", 29)]
    [InlineData("2024-02", 15, "2024-02-15", "2024-03-15", 29)]
    [InlineData("2023-12", 28, "2023-12-28", "2024-01-28", 31)]
    public void A_period_runs_a_month_from_the_cycle_day(string label, int cycleDay, string start, string end, int days)
    {
        BillingPeriod.TryParseLabel(label, out var month).Should().BeTrue();
        var period = BillingPeriod.Of(month, cycleDay);
        (period.Start, period.End, period.Days, period.Label).Should().Be((DateOnly.Parse(start), DateOnly.Parse(end), days, label));
    }

    [Theory]
    [InlineData("2024-2")]
    [InlineData("2024-13")]
    [InlineData("1999-12")]
    [InlineData("2024-02-01")]
    [InlineData("")]
    [InlineData(null)]
    public void Bad_period_labels_are_refused(string? label) => BillingPeriod.TryParseLabel(label, out _).Should().BeFalse();

    [Fact]
    public void Rating_records_how_units_fell_into_bands_and_reads_it_back()
    {
        var plan = Usage.RatingCatalog.Default.Plan("PLAN-VOICE-STD")!;
        var text = new System.Text.StringBuilder();
        // 90 minutes used before; 1,060 more: 10 included, 1,000 at 0.05, 50 at 0.03.
        var result = Usage.Rating.Rate(plan, 90, 1060 * 60, text);

        text.ToString().Should().Be("i=10;0@0.05=1000;1000@0.03=50");
        result.Amount.Should().Be(51.50m);
        var bands = new List<(long? From, decimal Rate, long Units)>();
        Usage.Rating.ParseBands(text.ToString(), bands).Should().BeTrue();
        bands.Should().Equal((null, 0m, 10L), (0L, 0.05m, 1000L), (1000L, 0.03m, 50L));
        Usage.Rating.ParseBands("garbage", bands).Should().BeFalse();
    }
}
