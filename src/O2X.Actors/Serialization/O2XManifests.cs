using System.Collections.Frozen;
using System.Runtime.Serialization;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;

namespace O2X.Actors.Serialization;

/// <summary>
/// The stable manifest of every <see cref="IO2XMessage"/> type. A manifest is forever: when an event's
/// shape must change, add a new type with a new manifest (".v2") and keep reading the old one.
/// </summary>
public static class O2XManifests
{
    private static readonly (string Manifest, Type Type)[] All =
    [
        // Orders
        ("ord.place", typeof(PlaceOrder)),
        ("ord.received.v1", typeof(OrderReceived)),
        ("ord.get", typeof(GetOrder)),
        ("ord.view", typeof(OrderView)),
        ("ord.state.v1", typeof(OrderState)),
        ("ordnum.allocate", typeof(AllocateOrderNumber)),
        ("ordnum.assigned", typeof(OrderNumberAssigned)),
        ("ordnum.allocated.v1", typeof(OrderNumberAllocated)),
        ("ordnum.state.v1", typeof(OrderNumberingState)),

        // Accounts
        ("acc.open", typeof(OpenAccount)),
        ("acc.update", typeof(UpdateAccount)),
        ("acc.opened.v1", typeof(AccountOpened)),
        ("acc.updated.v1", typeof(AccountUpdated)),
        ("acc.get", typeof(GetAccount)),
        ("acc.view", typeof(AccountView)),
        ("acc.state.v1", typeof(AccountState)),

        // Replies
        ("reply.done", typeof(CommandDone)),
        ("reply.refused", typeof(CommandRefused)),
        ("reply.notfound", typeof(EntityNotFound)),
    ];

    private static readonly FrozenDictionary<Type, string> ByType = All.ToFrozenDictionary(e => e.Type, e => e.Manifest);
    private static readonly FrozenDictionary<string, Type> ByManifest = All.ToFrozenDictionary(e => e.Manifest, e => e.Type, StringComparer.Ordinal);

    public static IEnumerable<Type> RegisteredTypes => ByType.Keys;

    public static string ManifestOf(Type type) =>
        ByType.TryGetValue(type, out var manifest)
            ? manifest
            : throw new SerializationException($"{type.FullName} has no manifest in {nameof(O2XManifests)}; add one before persisting or sending it.");

    public static Type TypeOf(string manifest) =>
        ByManifest.TryGetValue(manifest, out var type)
            ? type
            : throw new SerializationException($"Unknown O2X manifest '{manifest}'.");
}
