using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using System.Runtime.Serialization;

namespace O2X.Actors.Serialization;

/// <summary>
/// The one serializer for O2X events, snapshots and cluster messages: System.Text.Json payloads with
/// short, stable manifests from <see cref="O2XManifests"/>. No type names travel on the wire, so renaming
/// a class never breaks stored events, and input can never choose the type it is read as.
/// </summary>
internal sealed class O2XSerializer : SerializerWithStringManifest
{
    public const int SerializerId = 4711;

    /// <summary>
    /// The serializer's binding as HOCON, for actor systems built without Akka.Hosting (tests, benchmarks); the node uses
    /// <c>WithO2XSerialization</c>.
    /// </summary>
    public const string Hocon = """
        akka.actor {
          serializers.o2x = "O2X.Actors.Serialization.O2XSerializer, O2X.Actors"
          serialization-bindings { "O2X.Actors.Serialization.IO2XMessage, O2X.Actors" = o2x }
          serialization-identifiers { "O2X.Actors.Serialization.O2XSerializer, O2X.Actors" = 4711 }
        }
        """;

    internal static readonly JsonSerializerOptions Options = CreateOptions();

    public O2XSerializer(ExtendedActorSystem system) : base(system) { }

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => O2XManifests.ManifestOf(o.GetType());

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        JsonSerializer.Deserialize(bytes, O2XManifests.TypeOf(manifest), Options)
        ?? throw new SerializationException($"Manifest '{manifest}' deserialized to null.");

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            // Stored bytes, never HTML: quotes as \" and non-ASCII as UTF-8, not the default encoder's \u0022 and \uXXXX. An
            // order's event keeps the message it came in as a string, so this makes it about a fifth smaller (docs/benchmarks.md).
            // Control characters, quotes and backslashes are still escaped, so the JSON is as valid as before and reads the same.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.Strict,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
