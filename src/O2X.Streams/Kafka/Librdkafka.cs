using System.Runtime.InteropServices;

namespace O2X.Streams.Kafka;

/// <summary>
/// Loads the native librdkafka that Confluent.Kafka uses. The default <c>librdkafka.so</c> of the
/// librdkafka.redist package needs <c>libsasl2.so.3</c>, which Debian 12 does not ship; the package's
/// <c>centos8-librdkafka.so</c> has no such dependency. Call <see cref="EnsureLoaded"/> before creating
/// any Kafka client.
/// </summary>
public static class Librdkafka
{
    private static readonly Lazy<(string Path, IntPtr Handle)> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Path of the loaded library.</summary>
    public static string EnsureLoaded() => Loaded.Value.Path;

    /// <summary>Handle of the loaded library, for calling functions Confluent.Kafka does not wrap.</summary>
    public static IntPtr Handle => Loaded.Value.Handle;

    private static (string, IntPtr) Load()
    {
        var tried = new List<string>();
        foreach (var candidate in Candidates())
        {
            if (!File.Exists(candidate)) continue;
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                // Confluent.Kafka binds librdkafka (and libdl, which Debian only ships as libdl.so.2) through
                // DllImport: resolve both to what loads here.
                NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, (name, _, _) => name switch
                {
                    "librdkafka" => handle,
                    "libdl" => NativeLibrary.TryLoad("libdl.so.2", out var dl) ? dl : IntPtr.Zero,
                    _ => IntPtr.Zero,
                });
                return (candidate, handle);
            }

            tried.Add(candidate);
        }

        throw new DllNotFoundException(
            "librdkafka could not be loaded" + (tried.Count > 0 ? " from " + string.Join(", ", tried) : "") +
            ". Install libsasl2 or make sure the librdkafka.redist runtimes folder is deployed with the application.");
    }

    private static IEnumerable<string> Candidates()
    {
        var native = Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier.StartsWith("linux-arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64", "native");
        yield return Path.Combine(native, "librdkafka.so");
        yield return Path.Combine(native, "centos8-librdkafka.so");
        yield return Path.Combine(AppContext.BaseDirectory, "librdkafka.so");
    }
}
