using O2X.Actors.Messaging;
using O2X.Streams.Messaging;

namespace O2X.Actors.Usage;

/// <summary>Opens a CDR file named by a MEDIATION message's <c>file_location</c>, for one URI scheme.</summary>
public interface IUsageFileReader
{
    /// <summary>Schemes this reader serves (<c>file</c>; a path without scheme counts as <c>file</c>).</summary>
    IReadOnlyCollection<string> Schemes { get; }

    /// <summary>A stream over the file; throws <see cref="RetryableException"/> while it is not there (it may not have arrived yet).</summary>
    Stream Open(Uri location);
}

/// <summary>The readers by scheme. Only local files are read today; <c>sftp://</c> and <c>s3://</c> need a reader registered here.</summary>
public sealed class UsageFileReaders(IEnumerable<IUsageFileReader> readers)
{
    private readonly Dictionary<string, IUsageFileReader> _byScheme =
        readers.SelectMany(r => r.Schemes.Select(s => (s, r))).ToDictionary(p => p.s, p => p.r, StringComparer.OrdinalIgnoreCase);

    public static UsageFileReaders Default { get; } = new([new LocalFileReader()]);

    /// <summary>Where <paramref name="location"/> points and who reads it; NonRetryable when no reader serves its scheme.</summary>
    public (Uri Location, IUsageFileReader Reader) Resolve(string location)
    {
        var uri = Path.IsPathRooted(location) ? new Uri(Path.GetFullPath(location)) : Uri.TryCreate(location, UriKind.Absolute, out var u) ? u : null;
        if (uri is null)
            throw new NonRetryableException(ErrorCodes.InvalidField, $"file_location '{location}' is neither an absolute path nor a URI.");
        return _byScheme.TryGetValue(uri.Scheme, out var reader)
            ? (uri, reader)
            : throw new NonRetryableException(ErrorCodes.UnsupportedLocation,
                $"No reader for '{uri.Scheme}://' locations is configured (supported: {string.Join(", ", _byScheme.Keys.Order().Select(s => s + "://"))}).");
    }

    private sealed class LocalFileReader : IUsageFileReader
    {
        public IReadOnlyCollection<string> Schemes { get; } = ["file"];

        public Stream Open(Uri location)
        {
            try
            {
                return new FileStream(location.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new RetryableException($"CDR file {location.LocalPath} is not there (yet).", ex);
            }
        }
    }
}
