using System.Text;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;

namespace O2X.Actors.Tests;

internal static class TestData
{
    public static readonly DateTimeOffset At = new(2024, 2, 11, 10, 45, 0, TimeSpan.Zero);

    public static OrderDetails Details(string? correlationId = "SF-ORD-1", string accountId = "ACC-1001", OrderType type = OrderType.New,
        params ServiceLine[] lines) => new(
        accountId, "USR-501", type,
        lines.Length > 0 ? [.. lines] : [Line()],
        null, At, "Salesforce", correlationId);

    public static ServiceLine Line(ServiceAction action = ServiceAction.Add, string product = "INTERNET_100", int quantity = 1,
        decimal mrc = 50m, decimal otc = 99m, string currency = "USD") =>
        new(action, product, quantity, new Pricing(mrc, otc, currency), null);

    public static IntakeRecord Intake(string messageId, string? correlationId = "SF-ORD-1", string queue = "OMS", string body = "{}") =>
        new(messageId, queue, correlationId, body, false, At);

    public static MessageEnvelope Envelope(string body, string messageId = "m1", string queue = "OMS") =>
        new(messageId, queue, null, MessageEnvelope.NoHeaders, Encoding.UTF8.GetBytes(body), 1, At);
}
