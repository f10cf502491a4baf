namespace O2X.Testing;

/// <summary>Where things are in the repository, seen from a test's output directory.</summary>
public static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration the tests were built with (Debug/Release), read from their own path.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    public static string Sample(string relativePath) => Path.Combine(Root, "samples", relativePath);

    /// <summary>The <c>o2x</c> admin tool (built with the solution).</summary>
    public static string CliAssembly => Path.Combine(Root, "src", "O2X.Cli", "bin", Configuration, "net10.0", "o2x.dll");

    public static string HostAssembly => Path.Combine(Root, "src", "O2X.Host", "bin", Configuration, "net10.0", "O2X.Host.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "O2X.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("O2X.sln not found above " + AppContext.BaseDirectory);
    }
}
