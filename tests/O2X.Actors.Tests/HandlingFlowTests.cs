using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using O2X.Actors.Messaging.Bindings;
using O2X.Streams.Dsl;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public sealed class HandlingFlowTests : TestKit
{
    private readonly IMaterializer _materializer;

    public HandlingFlowTests() => _materializer = Sys.Materializer();

    [Fact]
    public async Task Every_message_comes_out_with_its_outcome_and_the_flow_survives_failures()
    {
        var handler = new ScriptedHandler();
        var envelopes = new[] { "ok-1", "reject-at-plan", "reject", "crash", "ok-2" }.Select(b => ScriptedHandler.Envelope(b, b)).ToArray();

        var handled = await Source.From(envelopes)
            .Via(Handling.Flow(handler, (MessageEnvelope e) => e, HandlingSettings.Default))
            .RunWith(Sink.Seq<Handled<MessageEnvelope>>(), _materializer);

        var byId = handled.ToDictionary(h => h.Envelope.MessageId, h => h.Outcome);
        byId["ok-1"].Should().BeOfType<HandlingOutcome.Processed>().Which.Facts["body"].Should().Be("ok-1");
        byId["ok-2"].Should().BeOfType<HandlingOutcome.Processed>();
        byId["reject-at-plan"].Should().Be(new HandlingOutcome.Rejected("MISSING_FIELD", "no account_id"));
        byId["reject"].Should().Be(new HandlingOutcome.Rejected("ACCOUNT_NOT_FOUND", "unknown account"));
        byId["crash"].Should().BeOfType<HandlingOutcome.Failed>().Which.ExceptionType.Should().Be(typeof(TimeoutException).FullName);
    }

    [Fact]
    public async Task A_message_whose_planning_fails_is_refused_never_left_to_be_redelivered_forever()
    {
        var handled = await Source.From([ScriptedHandler.Envelope("bug-at-plan", "bug")])
            .Via(Handling.Flow(new ScriptedHandler(), (MessageEnvelope e) => e, HandlingSettings.Default))
            .RunWith(Sink.Seq<Handled<MessageEnvelope>>(), _materializer);

        handled.Should().ContainSingle().Which.Outcome.Should().Be(
            new HandlingOutcome.Rejected(ExceptionPolicy.HandlerErrorCode, "System.InvalidOperationException: the handler has a bug"));
    }
}
