using O2X.Actors.Usage;

namespace O2X.Actors.Tests;

/// <summary>The pure rating function against hand-computed amounts for each plan type.</summary>
public sealed class RatingTests
{
    private static readonly RatingCatalog Catalog = RatingCatalog.Default;
    private static PricePlan Voice => Catalog.Plan("PLAN-VOICE-STD")!; // per started minute, 100 included, 0.05, from 1,000 chargeable: 0.03
    private static PricePlan Data => Catalog.Plan("PLAN-DATA-STD")!;   // per started MB, 1,024 included, 0.01, from 10,240: 0.005
    private static PricePlan Sms => Catalog.Plan("PLAN-SMS-STD")!;     // per message, 50 included, 0.02

    [Theory]
    [InlineData(0, 185, 4, 4, "0")]          // 185 s = 4 started minutes, all included
    [InlineData(0, 60, 1, 1, "0")]           // exactly one minute
    [InlineData(98, 185, 4, 2, "0.10")]      // the allowance runs out inside the call: 2 included, 2 × 0.05
    [InlineData(100, 600, 10, 0, "0.50")]    // allowance exhausted: 10 × 0.05
    [InlineData(1098, 240, 4, 0, "0.16")]    // tier boundary at 1,000 chargeable minutes: 2 × 0.05 + 2 × 0.03
    [InlineData(1100, 60, 1, 0, "0.03")]     // past the boundary
    [InlineData(5, 0, 0, 0, "0")]            // a zero-length call costs nothing and uses nothing
    public void Voice_is_rated_per_started_minute_with_allowance_and_tiers(long usedBefore, long seconds, long units, long included, string amount)
    {
        Rating.Rate(Voice, usedBefore, seconds).Should().Be(new RatingResult(units, included, decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Data_is_rated_per_started_megabyte_and_sms_per_message()
    {
        Rating.Rate(Data, 1023, 1_572_864).Should().Be(new RatingResult(2, 1, 0.01m)); // 1.5 MB = 2 started MB, the last included one
        Rating.Rate(Data, 1024 + 10_239, 3 * 1_048_576).Should().Be(new RatingResult(3, 0, 0.02m)); // 1 × 0.01 + 2 × 0.005
        Rating.Rate(Sms, 49, 3).Should().Be(new RatingResult(3, 1, 0.04m));
    }

    [Fact]
    public void A_plan_with_overlapping_bands_is_refused()
    {
        var build = () => new RatingCatalog([new PricePlan("BAD", "VOICE", "MINUTE", 60, 0, [new PriceBand(0, 1m), new PriceBand(0, 2m)])],
            new Dictionary<string, string>());

        build.Should().Throw<ArgumentException>().WithMessage("*increasing units*");
    }
}

public sealed class RatingTriggerBatchTests
{
    private static (long, string)[] Records(params (string Account, int Count)[] accounts)
    {
        long id = 0;
        return accounts.SelectMany(a => Enumerable.Range(0, a.Count).Select(_ => (++id, a.Account))).ToArray();
    }

    [Fact]
    public void Accounts_stay_in_one_batch_unless_one_alone_is_too_big()
    {
        var batches = UsageRatingTrigger.Batches(Records(("A", 3), ("B", 4), ("C", 2), ("D", 12)), size: 5).ToList();

        batches.Select(b => string.Concat(b.Select(r => r.AccountId))).Should().Equal("AAA", "BBBB", "CC", "DDDDD", "DDDDD", "DD");
        batches.Should().OnlyContain(b => b.Count <= 5);
        batches.SelectMany(b => b).Select(r => r.Id).Should().Equal(Enumerable.Range(1, 21).Select(i => (long)i));
    }
}
