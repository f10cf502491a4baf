using O2X.Streams.Stomp;

namespace O2X.Streams.Tests;

/// <summary>Broker addresses as Amazon MQ hands them out, and heart-beat negotiation.</summary>
public sealed class StompEndpointsTests
{
    [Fact]
    public void A_failover_pair_is_tried_in_the_order_given()
    {
        var endpoints = StompEndpoints.Parse("failover:(stomp+ssl://b-1.mq.eu-west-1.amazonaws.com:61614,stomp+ssl://b-2.mq.eu-west-1.amazonaws.com:61614)?randomize=false");

        endpoints.Should().Equal(
            new StompEndpoint("b-1.mq.eu-west-1.amazonaws.com", 61614, Tls: true),
            new StompEndpoint("b-2.mq.eu-west-1.amazonaws.com", 61614, Tls: true));
    }

    [Theory]
    [InlineData("stomp://127.0.0.1:61613", "127.0.0.1", 61613, false)]
    [InlineData("stomp+ssl://broker:61614?transport.verifyHostName=true", "broker", 61614, true)]
    [InlineData("stomp://[::1]:61613", "::1", 61613, false)]
    [InlineData("failover:(stomp://a:1)", "a", 1, false)]
    [InlineData("failover://(stomp+tls://a:1)?timeout=3000", "a", 1, true)]
    public void A_single_broker_is_one_endpoint(string address, string host, int port, bool tls)
    {
        StompEndpoints.Parse(address).Should().Equal(new StompEndpoint(host, port, tls));
    }

    [Theory]
    [InlineData("broker:61613", "no scheme")]
    [InlineData("amqp://broker:5672", "unknown scheme")]
    [InlineData("stomp://broker", "needs host:port")]
    [InlineData("stomp://broker:0", "no valid port")]
    [InlineData("stomp://broker:70000", "no valid port")]
    [InlineData("failover:(stomp://a:1,stomp://b:2", "closing parenthesis")]
    [InlineData("failover:()", "at least one broker")]
    [InlineData("tcp://broker:61616", "unknown scheme")]
    public void A_bad_address_says_what_is_wrong(string address, string because)
    {
        FluentActions.Invoking(() => StompEndpoints.Parse(address)).Should().Throw<FormatException>().WithMessage($"*{because}*");
    }

    [Fact]
    public void A_bare_failover_list_keeps_every_broker_and_credentials_never_reach_the_message()
    {
        StompEndpoints.Parse("failover:stomp://a:1,stomp://b:2?randomize=false")
            .Should().Equal(new StompEndpoint("a", 1, false), new StompEndpoint("b", 2, false));
        FluentActions.Invoking(() => StompEndpoints.Parse("failover:(stomp://admin:s3cret@a:1,stomp://b:2)"))
            .Should().Throw<FormatException>().Where(e => !e.Message.Contains("s3cret") && e.Message.Contains("credentials"));
    }

    [Theory]
    [InlineData(10_000, 10_000, "0,0", 0, 0)]
    [InlineData(10_000, 10_000, "5000,20000", 20_000, 10_000)]
    [InlineData(0, 10_000, "5000,20000", 0, 10_000)]
    [InlineData(10_000, 0, "5000,20000", 20_000, 0)]
    [InlineData(10_000, 10_000, null, 0, 0)]
    public void Heart_beats_are_the_larger_of_what_each_side_asked_for(int cx, int cy, string? server, int send, int expect)
    {
        var (s, e) = StompHeartBeat.Negotiate(TimeSpan.FromMilliseconds(cx), TimeSpan.FromMilliseconds(cy), server);

        s.Should().Be(TimeSpan.FromMilliseconds(send));
        e.Should().Be(TimeSpan.FromMilliseconds(expect));
        StompHeartBeat.Offer(TimeSpan.FromMilliseconds(cx), TimeSpan.FromMilliseconds(cy)).Should().Be($"{cx},{cy}");
    }

    [Fact]
    public void A_garbled_heart_beat_header_is_a_protocol_error()
    {
        FluentActions.Invoking(() => StompHeartBeat.Negotiate(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), "soon"))
            .Should().Throw<StompProtocolException>();
    }
}
