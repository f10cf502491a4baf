using System.Collections.Immutable;
using O2X.Actors.Serialization;

namespace O2X.Actors.Orders;

/// <summary>Routes to the order-number allocator of one day (<c>yyyyMMdd</c>).</summary>
internal interface IWithOrderDay
{
    string Day { get; }
}

/// <summary>
/// Ask for the order id of the business order identified by <paramref name="Key"/> (its correlation id,
/// or the message id when it has none). The same key always gets the same id.
/// </summary>
internal sealed record AllocateOrderNumber(string Day, string Key) : IWithOrderDay, IO2XMessage;

/// <summary>The answer: <c>ORD-{day}-{number:000}</c>, and whether this call created it.</summary>
internal sealed record OrderNumberAssigned(string OrderId, bool IsNew) : IO2XMessage;

/// <summary>
/// What a day's allocator holds (for operators and tests): its last number, the requests not yet in a write (with the journal
/// writer they go into one at once, so usually 0), and whether a write is in flight.
/// </summary>
internal sealed record GetOrderNumbering(string Day) : IWithOrderDay, IO2XMessage;

/// <summary>The answer to <see cref="GetOrderNumbering"/>.</summary>
internal sealed record OrderNumbering(string Day, int LastNumber, int Waiting, bool Writing) : IO2XMessage;

/// <summary>
/// Persisted by allocators before order numbers moved to a table (<c>o2x_order_number</c>): read once to copy them there,
/// never written any more.
/// </summary>
internal sealed record OrderNumberAllocated(string Day, string Key, int Number) : IWithOrderDay, IO2XMessage;

/// <summary>Snapshot of one day's allocations, from before the table (read only, like <see cref="OrderNumberAllocated"/>).</summary>
internal sealed record OrderNumberingState(string Day, int LastNumber, ImmutableDictionary<string, int> ByKey) : IO2XMessage
{
    public static OrderNumberingState Empty(string day) => new(day, 0, ImmutableDictionary<string, int>.Empty);

    public OrderNumberingState Apply(OrderNumberAllocated e) =>
        this with { LastNumber = Math.Max(LastNumber, e.Number), ByKey = ByKey.SetItem(e.Key, e.Number) };

    /// <summary>Seed §6.2 order ids look like <c>ORD-20240211-001</c>.</summary>
    public static string FormatOrderId(string day, int number) => $"ORD-{day}-{number:000}";
}
