using O2X.Testing;

namespace O2X.Actors.Tests;

/// <summary>The seed's example messages, verbatim, from <c>samples/</c>.</summary>
internal static class SeedSamples
{
    public static byte[] Read(string relativePath) => File.ReadAllBytes(RepositoryLayout.Sample(relativePath));

    public static string Text(string relativePath) => File.ReadAllText(RepositoryLayout.Sample(relativePath));
}
