namespace O2X.Actors.Hosting;

/// <summary>Where MEDIATION may read CDR files from (<c>O2X:Usage:Files</c>).</summary>
public sealed class UsageFileOptions
{
    public const string Section = "O2X:Usage:Files";

    /// <summary>
    /// The directories a message's <c>file_location</c> may name files in (relative to the node's working directory
    /// unless absolute). A location outside them — also through a symbolic link — is refused with
    /// <c>LOCATION_NOT_ALLOWED</c>, without saying whether anything is there. The first root also anchors relative
    /// locations. Default: <c>data/cdr</c>, created on start.
    /// </summary>
    public List<string> Roots { get; set; } = [];

    /// <summary>Longest wait for a file to open (a stalled network file system); after it the attempt fails and is retried.</summary>
    public TimeSpan OpenTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public const string DefaultRoot = "data/cdr";

    /// <summary>The configured roots, or the default one.</summary>
    public IReadOnlyList<string> EffectiveRoots => Roots.Count > 0 ? Roots : [DefaultRoot];

    public IEnumerable<string> Validate()
    {
        if (OpenTimeout < TimeSpan.FromMilliseconds(100) || OpenTimeout > TimeSpan.FromMinutes(5))
            yield return $"{Section}:OpenTimeout must be between 00:00:00.1 and 00:05:00 (was {OpenTimeout}).";
        for (var i = 0; i < Roots.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Roots[i])) yield return $"{Section}:Roots:{i} is empty.";
            else if (Roots[i] != DefaultRoot && !Directory.Exists(Roots[i]))
                yield return $"{Section}:Roots:{i} ('{Roots[i]}') is not an existing directory.";
        }
    }
}
