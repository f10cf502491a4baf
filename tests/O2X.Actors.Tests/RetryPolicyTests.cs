using O2X.Actors.Messaging.Bindings;

namespace O2X.Actors.Tests;

public class RetryPolicyTests
{
    [Fact]
    public void The_default_schedule_is_the_seeds()
    {
        // seed §5.2: 250 ms, then ×1.5 — 375, 562, 843, 1264, 1896, 2841 ms; 7 redeliveries.
        var delays = Enumerable.Range(1, 7).Select(n => RetryPolicy.Default.NominalDelay(n).TotalMilliseconds).ToArray();

        delays.Should().Equal([250, 375, 562.5, 843.75, 1265.625, 1898.4375, 2847.65625], (actual, expected) => Math.Abs(actual - expected) < 0.001);
        RetryPolicy.Default.MaxRedeliveries.Should().Be(7);
    }

    [Fact]
    public void Delays_stop_growing_at_the_maximum()
    {
        var policy = RetryPolicy.Default with { InitialDelay = TimeSpan.FromSeconds(10), Multiplier = 10, MaxDelay = TimeSpan.FromSeconds(60) };

        policy.NominalDelay(3).Should().Be(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Jitter_spreads_delays_within_its_bounds()
    {
        var random = new Random(7);
        var delays = Enumerable.Range(0, 2000).Select(_ => RetryPolicy.Default.Delay(1, random).TotalMilliseconds).ToArray();

        delays.Should().OnlyContain(d => d >= 250 * 0.85 && d <= 250 * 1.15);
        delays.Distinct().Count().Should().BeGreaterThan(1000, "collision avoidance spreads them");
        delays.Average().Should().BeApproximately(250, 5);
    }

    [Theory]
    [InlineData(0, 1.5, 60, 7, 0.15, "InitialDelay")]
    [InlineData(250, 0.5, 60, 7, 0.15, "Multiplier")]
    [InlineData(250, 1.5, 60, -1, 0.15, "MaxRedeliveries")]
    [InlineData(250, 1.5, 60, 7, 1.0, "Jitter")]
    public void Nonsense_settings_are_named(int initialMs, double multiplier, int maxSeconds, int redeliveries, double jitter, string named)
    {
        var policy = new RetryPolicy
        {
            InitialDelay = TimeSpan.FromMilliseconds(initialMs), Multiplier = multiplier, MaxDelay = TimeSpan.FromSeconds(maxSeconds),
            MaxRedeliveries = redeliveries, Jitter = jitter,
        };

        policy.Validate("X").Should().ContainSingle().Which.Should().Contain(named);
    }
}
