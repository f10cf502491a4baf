using System.Globalization;
using Akka.Actor;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;
using O2X.Streams.Messaging;

namespace O2X.Actors.Orders;

/// <summary>
/// The handler of the OMS queue (seed §4.1 steps 3-5, the role of crm_gateway's OmsReceiver): validates
/// and parses the message, then drives the Account and Order entities. Messages are ordered per account.
/// </summary>
public sealed class OmsReceiver : IMessageHandler
{
    private readonly IActorRef _orders;
    private readonly IActorRef _accounts;
    private readonly IActorRef _orderNumbers;
    private readonly TimeSpan _askTimeout;

    public OmsReceiver(IActorRef orders, IActorRef accounts, IActorRef orderNumbers, TimeSpan askTimeout)
    {
        _orders = orders;
        _accounts = accounts;
        _orderNumbers = orderNumbers;
        _askTimeout = askTimeout;
    }

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        var message = OmsMessageParser.Parse(envelope.Body);
        var key = "account:" + message.AccountId;
        return message switch
        {
            OmsMessage.Order order => new HandlingPlan(key, ct => PlaceOrderAsync(envelope, order, ct)),
            OmsMessage.AccountUpdate update => new HandlingPlan(key, ct => UpdateAccountAsync(envelope, update, ct)),
            _ => throw new InvalidOperationException("unreachable: unknown OMS message " + message.GetType().Name),
        };
    }

    private async Task<HandlingOutcome> PlaceOrderAsync(MessageEnvelope envelope, OmsMessage.Order order, CancellationToken ct)
    {
        var details = order.Details with { CorrelationId = order.Details.CorrelationId ?? envelope.CorrelationId };
        var orderId = order.OrderId ?? await AllocateOrderIdAsync(envelope, details, ct).ConfigureAwait(false);

        if (details.OrderType == OrderType.New)
        {
            await EntityAsk.CommandAsync(_accounts, new OpenAccount(details.AccountId, envelope.MessageId, orderId, envelope.ReceivedAt), _askTimeout, ct)
                .ConfigureAwait(false);
        }
        else
        {
            var account = await EntityAsk.AskAsync<IO2XMessage>(_accounts, new GetAccount(details.AccountId), _askTimeout, ct).ConfigureAwait(false);
            if (account is EntityNotFound)
                throw new NonRetryableException(ErrorCodes.AccountNotFound, $"Account {details.AccountId} does not exist; a {details.OrderType.ToString().ToUpperInvariant()} order needs an existing account.");
        }

        var done = await EntityAsk.CommandAsync(_orders, new PlaceOrder(orderId, envelope.MessageId, details, envelope.ReceivedAt), _askTimeout, ct)
            .ConfigureAwait(false);
        var facts = new[] { ("orderId", orderId), ("accountId", details.AccountId) };
        return done.WasDuplicate ? HandlingOutcome.DuplicateWith(facts) : HandlingOutcome.ProcessedWith(facts);
    }

    private async Task<string> AllocateOrderIdAsync(MessageEnvelope envelope, OrderDetails details, CancellationToken ct)
    {
        var day = details.SubmittedAt.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var key = details.CorrelationId ?? envelope.MessageId;
        var assigned = await EntityAsk.AskAsync<OrderNumberAssigned>(_orderNumbers, new AllocateOrderNumber(day, key), _askTimeout, ct)
            .ConfigureAwait(false);
        return assigned.OrderId;
    }

    private async Task<HandlingOutcome> UpdateAccountAsync(MessageEnvelope envelope, OmsMessage.AccountUpdate update, CancellationToken ct)
    {
        var command = new UpdateAccount(update.AccountId, envelope.MessageId, update.BillingAddress, update.PaymentMethod, envelope.ReceivedAt);
        var done = await EntityAsk.CommandAsync(_accounts, command, _askTimeout, ct).ConfigureAwait(false);
        var facts = ("accountId", update.AccountId);
        return done.WasDuplicate ? HandlingOutcome.DuplicateWith(facts) : HandlingOutcome.ProcessedWith(facts);
    }
}
