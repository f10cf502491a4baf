using System.Globalization;
using Akka.Actor;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Serialization;
using O2X.Actors.Sharding;

namespace O2X.Actors.Orders;

/// <summary>
/// The handler of the OMS queue (seed §4.1 steps 3-7, crm_gateway's OmsReceiver): validates and parses the
/// message, then drives the Account and Order entities. Every step is idempotent, so a redelivery after a
/// crash completes what the first delivery started and never applies anything twice. Messages are ordered
/// per account. Outbound messages (OMS_ARCHIVE, OMS_RESPONSE, PROVISIONING_REQUEST) follow from the
/// persisted events through the outbox projection, not from here.
/// </summary>
internal sealed class OmsReceiver : IMessageHandler
{
    private readonly EntityRegions _regions;
    private readonly ProductCatalog _catalog;
    private readonly TimeSpan _timeout;
    private readonly Persistence.FreshEntities _fresh;
    private readonly Persistence.Journal.FirstWrites _firstWrites;

    public OmsReceiver(EntityRegions regions, ProductCatalog catalog, TimeSpan askTimeout, Persistence.FreshEntities fresh,
        Persistence.Journal.FirstWrites firstWrites)
    {
        _regions = regions;
        _catalog = catalog;
        _timeout = askTimeout;
        _fresh = fresh;
        _firstWrites = firstWrites;
    }

    public HandlingPlan Plan(MessageEnvelope envelope)
    {
        var message = OmsMessageParser.Parse(envelope.Body);
        var key = "account:" + message.AccountId;
        switch (message)
        {
            case OmsMessage.Order { Details.OrderType: OrderType.Cancel } cancel:
                return new HandlingPlan(key, ct => CancelOrderAsync(envelope, cancel, ct));
            case OmsMessage.Order order:
                _catalog.Check(order.Details);
                return new HandlingPlan(key, ct => PlaceOrderAsync(envelope, order, ct));
            case OmsMessage.AccountUpdate update:
                return new HandlingPlan(key, ct => UpdateAccountAsync(envelope, update, ct));
            default:
                throw new InvalidOperationException("unreachable: unknown OMS message " + message.GetType().Name);
        }
    }

    private async Task<HandlingOutcome> PlaceOrderAsync(MessageEnvelope envelope, OmsMessage.Order order, CancellationToken ct)
    {
        var details = order.Details with { CorrelationId = order.Details.CorrelationId ?? envelope.CorrelationId };
        var intake = IntakeRecord.From(envelope, details.CorrelationId);

        string orderId;
        var isNewNumber = false;
        if (order.OrderId is { } given)
        {
            // An order that brings its own id must not take over somebody else's order.
            orderId = given;
            if (await AskAsync(_regions.Orders, new GetOrder(orderId), ct) is OrderView existing && existing.Details.CorrelationId != details.CorrelationId)
                throw new NonRetryableException(ErrorCodes.DuplicateOrder,
                    $"Order {orderId} already exists (correlation id {existing.Details.CorrelationId ?? "none"}).");
        }
        else
        {
            (orderId, isNewNumber) = await AllocateOrderIdAsync(envelope, details, ct);
        }

        return await PlaceAsync(envelope, details, intake, orderId, isNewNumber, ct);
    }

    private async Task<HandlingOutcome> PlaceAsync(MessageEnvelope envelope, OrderDetails details, IntakeRecord intake, string orderId, bool isNewNumber,
        CancellationToken ct)
    {
        var accountId = details.AccountId;

        // Opens the account for a NEW order; checks the changes against the account's subscriptions. Idempotent
        // per order, so a redelivery is not checked again against subscriptions that have moved on since.
        var changes = SubscriptionRules.ChangesOf(details);
        var prepare = new PrepareOrder(accountId, envelope.MessageId, orderId, details.OrderType == OrderType.New, changes, envelope.ReceivedAt);
        var place = new PlaceOrder(orderId, intake, details);
        CommandDone placed;
        if (details.OrderType == OrderType.New && changes.All(c => c.Action == ServiceAction.Add))
        {
            // Nothing can refuse a NEW order that only adds services on the account side, so both entities persist
            // at once (one durable round trip less); each is idempotent if a crash hits between them.
            var prepared = CommandAsync(_regions.Accounts, prepare, ct);
            var placing = PlaceOrderAsync(place, isNewNumber, ct);
            await Task.WhenAll(prepared, placing);
            placed = await placing;
        }
        else
        {
            await CommandAsync(_regions.Accounts, prepare, ct);
            placed = await PlaceOrderAsync(place, isNewNumber, ct);
        }

        var facts = new[] { ("orderId", orderId), ("accountId", accountId) };
        return placed.WasDuplicate ? HandlingOutcome.DuplicateWith(facts) : HandlingOutcome.ProcessedWith(facts);
    }

    /// <summary>
    /// Places the order. An order whose number was given out just now (<paramref name="isNewNumber"/>) has nothing stored under
    /// it and nobody can have addressed it: its first events are decided here from the empty state, exactly as its entity
    /// would, and written straight into the journal's next group commit (<see cref="Persistence.Journal.FirstWrites"/>). Its
    /// entity starts only when the order is next addressed (provisioning, a read) and recovers them. Should the write fail
    /// (the journal is stopping, the number is taken after all, the database is down), the entity decides again from what is
    /// stored, as every other order command does.
    /// </summary>
    private async Task<CommandDone> PlaceOrderAsync(PlaceOrder place, bool isNewNumber, CancellationToken ct)
    {
        if (!isNewNumber) return await CommandAsync(_regions.Orders, place, ct);

        var persistenceId = OrderActor.PersistenceIdOf(place.OrderId);
        var decision = OrderState.Decide(OrderState.Empty(place.OrderId), place);
        if (decision is { Reply: CommandDone done, Events.IsEmpty: false } && _firstWrites.TryWrite(persistenceId, [.. decision.Events], out var written))
        {
            try
            {
                await written.WaitAsync(ct).ConfigureAwait(false);
                return done;
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // Not written (or not known to be): fall through to the entity, which reads what is stored and decides again.
            }
            catch (OperationCanceledException)
            {
                // The attempt ran out of time with the write still queued: its outcome is the retry's business (the retry
                // gets this number back as not new and asks the entity), so a late failure is observed here and dropped.
                _ = written.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                throw;
            }
        }

        // Its entity need not look for a snapshot: the number is new (FreshEntities; a wrong mark costs a replay, never state).
        _fresh.Mark(persistenceId);
        try
        {
            return await CommandAsync(_regions.Orders, place, ct);
        }
        finally
        {
            _fresh.Unmark(persistenceId);
        }
    }

    private async Task<HandlingOutcome> CancelOrderAsync(MessageEnvelope envelope, OmsMessage.Order cancel, CancellationToken ct)
    {
        var orderId = cancel.OrderId!;
        if (await AskAsync(_regions.Orders, new GetOrder(orderId), ct) is not OrderView existing)
            throw new NonRetryableException(ErrorCodes.OrderNotFound, $"Order {orderId} does not exist.");
        if (existing.AccountId != cancel.AccountId)
            throw new NonRetryableException(ErrorCodes.InvalidField, $"Order {orderId} belongs to account {existing.AccountId}, not {cancel.AccountId}.",
                new Dictionary<string, string> { ["field"] = "account_id" });

        var intake = IntakeRecord.From(envelope, cancel.Details.CorrelationId);
        var cancelled = await CommandAsync(_regions.Orders, new CancelOrder(orderId, intake), ct);
        await CommandAsync(_regions.Accounts, new AbandonOrderChanges(existing.AccountId, envelope.MessageId, orderId, "CANCELLED", envelope.ReceivedAt), ct);
        var facts = new[] { ("orderId", orderId), ("accountId", existing.AccountId), ("status", "CANCELLED") };
        return cancelled.WasDuplicate ? HandlingOutcome.DuplicateWith(facts) : HandlingOutcome.ProcessedWith(facts);
    }

    private async Task<(string OrderId, bool IsNew)> AllocateOrderIdAsync(MessageEnvelope envelope, OrderDetails details, CancellationToken ct)
    {
        var day = details.SubmittedAt.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var key = details.CorrelationId ?? envelope.MessageId;
        var assigned = await EntityAsk.AskAsync<OrderNumberAssigned>(_regions.OrderNumbers, new AllocateOrderNumber(day, key), _timeout, ct);
        return (assigned.OrderId, assigned.IsNew);
    }

    private async Task<HandlingOutcome> UpdateAccountAsync(MessageEnvelope envelope, OmsMessage.AccountUpdate update, CancellationToken ct)
    {
        var intake = IntakeRecord.From(envelope, envelope.CorrelationId);
        var done = await CommandAsync(_regions.Accounts, new UpdateAccount(update.AccountId, intake, update.BillingAddress, update.PaymentMethod,
            update.Contact, update.CycleDay, update.Discounts, update.RemovedDiscounts), ct);
        var facts = ("accountId", update.AccountId);
        return done.WasDuplicate ? HandlingOutcome.DuplicateWith(facts) : HandlingOutcome.ProcessedWith(facts);
    }

    private Task<CommandDone> CommandAsync(IActorRef region, object command, CancellationToken ct) => EntityAsk.CommandAsync(region, command, _timeout, ct);

    private Task<IO2XMessage> AskAsync(IActorRef region, object query, CancellationToken ct) => EntityAsk.AskAsync<IO2XMessage>(region, query, _timeout, ct);
}
