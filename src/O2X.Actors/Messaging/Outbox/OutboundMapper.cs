using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging.Rejections;
using O2X.Actors.Orders;

namespace O2X.Actors.Messaging.Outbox;

/// <summary>
/// Derives outbound messages from persisted events (no dual writes: the event is the only write, the
/// messages follow from it). Pure: the same event always gives the same messages.
/// </summary>
internal static class OutboundMapper
{
    /// <summary>The journal tag of events that produce outbound messages.</summary>
    public const string Tag = "outbox";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper) },
    };

    /// <summary>Whether <paramref name="event"/> produces outbound messages (and so is tagged <see cref="Tag"/>).</summary>
    public static bool Produces(object @event) => @event is OrderReceived or ProvisioningRequested or DuplicateOrderSubmitted
        or OrderCancelled or ProvisioningCompleted or ProvisioningFailed or OrderInvoiced or AccountUpdated or MessageRejected
        or InvoiceIssued { BillingEmail: not null } or CycleInvoiceIssued { Invoice.Cycle.BillingEmail: not null };

    public static IReadOnlyList<OutboundMessage> Map(object @event, string persistenceId, long sequenceNr)
    {
        var id = $"{persistenceId}-{sequenceNr}";
        var messages = new List<OutboundMessage>(2);
        if (@event is IHasIntake { Intake.Queue: "OMS" } withIntake) messages.Add(Archive(withIntake.Intake, id));

        switch (@event)
        {
            case OrderReceived e:
                messages.Add(Response(id, e.Intake.CorrelationId, new
                {
                    order_id = e.OrderId, account_id = e.Details.AccountId, status = "RECEIVED", order_type = e.Details.OrderType,
                    correlation_id = e.Intake.CorrelationId, source_message_id = e.MessageId, timestamp = e.At, errors = Array.Empty<object>(),
                }));
                break;
            case DuplicateOrderSubmitted e:
                messages.Add(Response(id, e.Intake.CorrelationId, new
                {
                    order_id = e.OrderId, status = "DUPLICATE", order_status = e.StatusAtResubmission, correlation_id = e.Intake.CorrelationId,
                    source_message_id = e.MessageId, timestamp = e.At, errors = Array.Empty<object>(),
                }));
                break;
            case ProvisioningRequested e:
                messages.Add(new OutboundMessage(Destinations.ProvisioningRequest, "prq-" + id, e.CorrelationId, Serialize(new
                {
                    provisioning_request_id = e.RequestId, order_id = e.OrderId, account_id = e.AccountId, order_type = e.OrderType,
                    services = e.Services.Select(s => new { action = s.Action, product_code = s.ProductCode, quantity = s.Quantity, customization = s.Customization }),
                    correlation_id = e.CorrelationId, requested_at = e.At,
                }), Headers(("x-o2x-order-id", e.OrderId))));
                break;
            case OrderCancelled e:
                messages.Add(StatusResponse(id, e.OrderId, "CANCELLED", e.Intake.CorrelationId, e.At, e.MessageId));
                break;
            case ProvisioningCompleted e:
                messages.Add(StatusResponse(id, e.OrderId, "COMPLETED", null, e.At, e.MessageId));
                break;
            case ProvisioningFailed e:
                messages.Add(Response(id, null, new
                {
                    order_id = e.OrderId, status = "FAILED", source_message_id = e.MessageId, timestamp = e.At,
                    errors = new[] { new { code = e.Result.Error.Code, message = e.Result.Error.Message } },
                    retry_recommended = e.Result.RetryRecommended,
                }));
                break;
            case OrderInvoiced e:
                messages.Add(Response(id, null, new
                {
                    order_id = e.OrderId, status = "INVOICED", invoice_number = e.InvoiceNumber, source_message_id = e.MessageId, timestamp = e.At,
                    errors = Array.Empty<object>(),
                }));
                break;
            case AccountUpdated e:
                messages.Add(Response(id, e.Intake.CorrelationId, new
                {
                    account_id = e.AccountId, status = "UPDATED", correlation_id = e.Intake.CorrelationId, source_message_id = e.MessageId,
                    timestamp = e.At, errors = Array.Empty<object>(),
                }));
                break;
            case InvoiceIssued { BillingEmail: { } to } e:
                messages.Add(InvoiceMail(id, to, e.Invoice));
                break;
            case CycleInvoiceIssued { Invoice.Cycle.BillingEmail: { } to } e:
                messages.Add(InvoiceMail(id, to, e.Invoice));
                break;
            case MessageRejected e:
                messages.Add(ErrorEnvelope(e, id));
                if (e.Intake.Queue == "OMS")
                    messages.Add(Response(id, e.Intake.CorrelationId, new
                    {
                        order_id = (string?)null, status = "REJECTED", correlation_id = e.Intake.CorrelationId, source_message_id = e.Intake.MessageId,
                        timestamp = e.At, errors = new[] { new { code = e.ErrorCode, message = e.ErrorMessage } },
                    }));
                break;
        }

        return messages;
    }

    /// <summary>
    /// An invoice to e-mail (INVOICE): to whom, and the invoice itself as O2X stores it, so the sender renders the PDF without
    /// asking the account again. The message id (<c>inv-{account}-{seq}</c>) becomes the e-mail's Message-ID: a repeat is the same mail.
    /// </summary>
    private static OutboundMessage InvoiceMail(string id, string to, Invoice invoice)
    {
        var body = new JsonObject
        {
            ["to"] = to,
            ["invoice_number"] = invoice.InvoiceNumber,
            ["account_id"] = invoice.AccountId,
            ["invoice"] = JsonSerializer.SerializeToNode(invoice, Serialization.O2XSerializer.Options),
        };
        return new OutboundMessage(Destinations.Invoice, "inv-" + id, invoice.InvoiceNumber, body.ToJsonString(),
            Headers(("x-o2x-invoice-number", invoice.InvoiceNumber), ("x-o2x-account-id", invoice.AccountId)));
    }

    /// <summary>Seed §5.3: <c>originalMessage, errorMessage, errorCode, timestamp</c>, plus where it came from.</summary>
    private static OutboundMessage ErrorEnvelope(MessageRejected e, string id)
    {
        var envelope = new JsonObject
        {
            ["originalMessage"] = e.Intake.Body,
            ["errorMessage"] = e.ErrorMessage,
            ["errorCode"] = e.ErrorCode,
            ["timestamp"] = e.At,
            ["queue"] = e.Intake.Queue,
            ["messageId"] = e.Intake.MessageId,
            ["correlationId"] = e.Intake.CorrelationId,
        };
        if (e.Intake.BodyIsBase64) envelope["originalMessageEncoding"] = "base64";
        return new OutboundMessage(e.ErrorDestination, "err-" + id, e.Intake.CorrelationId, envelope.ToJsonString(),
            Headers(("x-o2x-error-code", e.ErrorCode), ("x-o2x-source-queue", e.Intake.Queue), ("x-o2x-source-message-id", e.Intake.MessageId)));
    }

    private static OutboundMessage Archive(IntakeRecord intake, string id)
    {
        var headers = new Dictionary<string, string>
        {
            ["x-o2x-source-queue"] = intake.Queue,
            ["x-o2x-source-message-id"] = intake.MessageId,
            ["x-o2x-received-at"] = intake.ReceivedAt.ToString("O"),
        };
        if (intake.BodyIsBase64) headers["x-o2x-body-encoding"] = "base64";
        return new OutboundMessage(Destinations.OmsArchive, "arc-" + id, intake.CorrelationId, intake.Body, headers);
    }

    private static OutboundMessage StatusResponse(string id, string orderId, string status, string? correlationId, DateTimeOffset at, string messageId) =>
        Response(id, correlationId, new
        {
            order_id = orderId, status, correlation_id = correlationId, source_message_id = messageId, timestamp = at, errors = Array.Empty<object>(),
        });

    private static OutboundMessage Response(string id, string? correlationId, object body) =>
        new(Destinations.OmsResponse, "rsp-" + id, correlationId, Serialize(body), Headers());

    private static string Serialize(object body) => JsonSerializer.Serialize(body, Json);

    private static IReadOnlyDictionary<string, string> Headers(params (string Key, string Value)[] headers) =>
        headers.ToDictionary(h => h.Key, h => h.Value);
}
