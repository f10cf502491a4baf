using System.Text;
using System.Text.Json;
using Akka.Actor;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;
using O2X.Actors.Serialization;

namespace O2X.Actors.Tests;

public sealed class SerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test");
    private readonly O2XSerializer _serializer;

    public SerializerTests() => _serializer = new O2XSerializer((ExtendedActorSystem)_system);

    [Fact]
    public void Every_O2X_message_type_has_a_manifest()
    {
        var messageTypes = typeof(IO2XMessage).Assembly.GetTypes()
            .Where(t => typeof(IO2XMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false });

        messageTypes.Should().BeSubsetOf(O2XManifests.RegisteredTypes);
    }

    [Fact]
    public void An_order_event_survives_a_round_trip_including_free_form_json()
    {
        var customization = JsonDocument.Parse("{\"ont_serial\":\"ONT123456\",\"service_address\":{\"city\":\"Mexico City\"}}").RootElement.Clone();
        var details = TestData.Details() with
        {
            Services = [new ServiceLine(ServiceAction.Add, "INTERNET_100", 1, new Pricing(50.00m, 99.00m, "USD"), customization)],
        };
        var original = new OrderReceived("ORD-20240211-001", TestData.Intake("m1"), details, DateTimeOffset.Parse("2024-02-11T10:45:00Z"));

        var copy = RoundTrip(original);

        copy.OrderId.Should().Be(original.OrderId);
        copy.Details.Services[0].Pricing.Should().Be(new Pricing(50.00m, 99.00m, "USD"));
        copy.Details.Services[0].Customization!.Value.GetProperty("service_address").GetProperty("city").GetString().Should().Be("Mexico City");
        copy.At.Should().Be(original.At);
    }

    [Fact]
    public void A_snapshot_keeps_the_processed_message_window()
    {
        var state = AccountState.Empty("ACC-1")
            .Apply(new AccountOpened("ACC-1", "m1", null, DateTimeOffset.UnixEpoch))
            .Apply(new AccountUpdated("ACC-1", TestData.Intake("m2"), null, new PaymentMethod("CARD", "tok", true), DateTimeOffset.UnixEpoch));

        var copy = RoundTrip(state);

        copy.Processed.Ids.Should().Equal("m1", "m2");
        copy.PaymentMethod.Should().Be(state.PaymentMethod);
        copy.IsOpen.Should().BeTrue();
    }

    [Fact]
    public void A_snapshot_from_before_bulk_operations_reads_with_an_empty_ledger_and_history()
    {
        var state = AccountState.Empty("ACC-1").Apply(new AccountOpened("ACC-1", "m1", null, DateTimeOffset.UnixEpoch));
        var json = System.Text.Json.Nodes.JsonNode.Parse(_serializer.ToBinary(state))!.AsObject();
        json.Remove("ledger").Should().BeTrue("the test removes what older snapshots lack");
        json.Remove("invoiceHistory").Should().BeTrue();

        var old = (AccountState)_serializer.FromBinary(Encoding.UTF8.GetBytes(json.ToJsonString()), _serializer.Manifest(state));

        old.Ledger.IsDefault.Should().BeFalse();
        old.Ledger.Should().BeEmpty();
        old.InvoiceHistory.Should().BeEmpty();
        old.Balances().Should().BeEmpty();
    }

    [Fact]
    public void Manifests_are_short_names_not_type_names()
    {
        var manifest = _serializer.Manifest(new GetOrder("ORD-1"));

        manifest.Should().Be("ord.get");
        Encoding.UTF8.GetString(_serializer.ToBinary(new GetOrder("ORD-1"))).Should().NotContain("O2X.Actors");
    }

    [Fact]
    public void An_unknown_manifest_is_an_error_not_a_type_lookup()
    {
        var act = () => _serializer.FromBinary("{}"u8.ToArray(), "System.IO.FileInfo, System.IO.FileSystem");

        act.Should().Throw<System.Runtime.Serialization.SerializationException>();
    }

    [Fact]
    public void A_kept_message_is_stored_with_short_escapes_and_reads_back_exactly()
    {
        // What an order's first event keeps of the message: quotes, markup, non-ASCII, backslashes and control characters.
        const string body = "{\"note\":\"<b>Café</b> & 'x' \\\\ \\u0001 — 住所\",\"n\":1}\u0007\r\n\t";
        var original = new OrderReceived("ORD-20240211-001", TestData.Intake("m1", body: body), TestData.Details(), DateTimeOffset.UnixEpoch);

        var bytes = _serializer.ToBinary(original);
        var json = Encoding.UTF8.GetString(bytes);

        json.Should().NotContain("\\u0022", "a quote is written as \\\" (2 bytes), not \\u0022 (6)");
        json.Should().Contain("Café").And.Contain("住所", "non-ASCII text is stored as UTF-8, not \\uXXXX");
        json.Should().Contain("\\u0007\\r\\n\\t").And.Contain("\\\\u0001", "control characters and backslashes are still escaped");
        using (var document = JsonDocument.Parse(bytes)) document.RootElement.GetProperty("intake").GetProperty("body").GetString().Should().Be(body);
        RoundTrip(original).Intake.Body.Should().Be(body);
    }

    private T RoundTrip<T>(T message) where T : notnull =>
        (T)_serializer.FromBinary(_serializer.ToBinary(message), _serializer.Manifest(message));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
