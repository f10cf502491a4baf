using O2X.Actors.Hosting;
using O2X.Actors.Messaging;

namespace O2X.Actors.Usage;

/// <summary>Opens a CDR file named by a MEDIATION message's <c>file_location</c>, for one URI scheme.</summary>
internal interface IUsageFileReader
{
    /// <summary>Schemes this reader serves (<c>file</c>; a path without scheme counts as <c>file</c>).</summary>
    IReadOnlyCollection<string> Schemes { get; }

    /// <summary>Refuses (NonRetryable) a location this reader must never read; called before anything is stored.</summary>
    void Admit(Uri location);

    /// <summary>
    /// A stream over the file. Throws <see cref="RetryableException"/> while it is not there (it may not have arrived
    /// yet) or the store does not answer, <see cref="NonRetryableException"/> when it can never be read.
    /// </summary>
    Task<Stream> OpenAsync(Uri location, CancellationToken cancellation);
}

/// <summary>The readers by scheme. Only local files are read today; <c>sftp://</c> and <c>s3://</c> need a reader registered here.</summary>
internal sealed class UsageFileReaders
{
    private readonly Dictionary<string, IUsageFileReader> _byScheme;
    private readonly LocalFileReader _local;

    /// <summary>Local files under the configured roots, and <paramref name="others"/> for other schemes.</summary>
    public UsageFileReaders(UsageFileOptions options, params IEnumerable<IUsageFileReader> others)
    {
        _local = new LocalFileReader(options);
        _byScheme = others.Prepend(_local).SelectMany(r => r.Schemes.Select(s => (s, r)))
            .ToDictionary(p => p.s, p => p.r, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Where <paramref name="location"/> points and who reads it; NonRetryable when no reader serves it or it is not allowed.</summary>
    /// <param name="location">A URI, an absolute path, or a path relative to the first root.</param>
    public (Uri Location, IUsageFileReader Reader) Resolve(string location)
    {
        var uri = location.Contains("://", StringComparison.Ordinal)
            ? Uri.TryCreate(location, UriKind.Absolute, out var u) ? u : null
            : _local.ToUri(location);
        if (uri is null)
            throw new NonRetryableException(ErrorCodes.InvalidField, $"file_location '{TextExcerpt.Of(location)}' is neither a path nor a URI.",
                new Dictionary<string, string> { ["field"] = "file_location" });
        if (!_byScheme.TryGetValue(uri.Scheme, out var reader))
            throw new NonRetryableException(ErrorCodes.UnsupportedLocation,
                $"No reader for '{TextExcerpt.Of(uri.Scheme, 16)}://' locations is configured (supported: {string.Join(", ", _byScheme.Keys.Order().Select(s => s + "://"))}).");
        reader.Admit(uri);
        return (uri, reader);
    }

    /// <summary>
    /// Local files, only inside the configured roots (<see cref="UsageFileOptions"/>): the path is normalised, every
    /// symbolic link on it resolved, and what it finally names must be a regular file inside a root. Whatever is refused is
    /// refused with the same words whether or not something exists there, so a message cannot probe the host's files.
    /// </summary>
    private sealed class LocalFileReader : IUsageFileReader
    {
        private readonly string[] _roots;
        private readonly string[] _realRoots;
        private readonly TimeSpan _openTimeout;

        public LocalFileReader(UsageFileOptions options)
        {
            _roots = [.. options.EffectiveRoots.Select(r => WithSeparator(Path.GetFullPath(r)))];
            foreach (var root in _roots) Directory.CreateDirectory(root);
            _realRoots = [.. _roots.Select(r => WithSeparator(UnixFiles.RealPath(r) ?? r))];
            _openTimeout = options.OpenTimeout;
            Anchor = _roots[0];
        }

        /// <summary>Relative locations are files under the first root.</summary>
        private string Anchor { get; }

        public IReadOnlyCollection<string> Schemes { get; } = ["file"];

        /// <summary>A path (absolute, or relative to the first root) as a <c>file://</c> URI; null when it cannot be one.</summary>
        public Uri? ToUri(string path)
        {
            if (path.Length == 0 || path.IndexOf('\0') >= 0) return null;
            var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Anchor, path));
            return Uri.TryCreate(full, UriKind.Absolute, out var uri) ? uri : null;
        }

        public void Admit(Uri location)
        {
            if (!InsideRoot(LocalPath(location), _roots)) throw NotAllowed(location);
        }

        public async Task<Stream> OpenAsync(Uri location, CancellationToken cancellation)
        {
            var path = LocalPath(location);
            if (!InsideRoot(path, _roots)) throw NotAllowed(location);
            var real = UnixFiles.RealPath(path)
                       ?? throw new RetryableException($"CDR file {TextExcerpt.Of(path, 256)} is not there (yet).", dependencyFailure: false);
            if (!InsideRoot(real, _realRoots) || !UnixFiles.IsRegularFile(real)) throw NotAllowed(location);
            try
            {
                // Off the caller's thread and bounded: a stalled file system must not hold the worker.
                return await Task.Run(() => (Stream)new FileStream(real, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
                    FileOptions.SequentialScan), cancellation).WaitAsync(_openTimeout, cancellation).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new RetryableException($"CDR file {TextExcerpt.Of(path, 256)} did not open within {_openTimeout.TotalSeconds:0} s.", ex);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new RetryableException($"CDR file {TextExcerpt.Of(path, 256)} is not there (yet).", ex, dependencyFailure: false);
            }
            catch (UnauthorizedAccessException)
            {
                throw NotAllowed(location);
            }
        }

        /// <summary>The normalised local path (no <c>..</c>) of a <c>file:</c> URI without host, query or fragment.</summary>
        private string LocalPath(Uri location)
        {
            if (!location.IsFile || location.Host.Length > 0 || location.Query.Length > 0 || location.Fragment.Length > 0) throw NotAllowed(location);
            var path = location.LocalPath;
            if (path.IndexOf('\0') >= 0 || !Path.IsPathRooted(path)) throw NotAllowed(location);
            return Path.GetFullPath(path);
        }

        private static bool InsideRoot(string path, string[] roots) => roots.Any(root => path.StartsWith(root, StringComparison.Ordinal));

        private static string WithSeparator(string directory) =>
            directory.EndsWith(Path.DirectorySeparatorChar) ? directory : directory + Path.DirectorySeparatorChar;

        private NonRetryableException NotAllowed(Uri location) => new(ErrorCodes.LocationNotAllowed,
            $"file_location '{TextExcerpt.Of(location.OriginalString, 128)}' is not a readable CDR file in an allowed directory " +
            $"(O2X:Usage:Files:Roots; this node reads regular files under {string.Join(", ", _roots.Select(r => r.TrimEnd('/')))}).",
            new Dictionary<string, string> { ["field"] = "file_location" });
    }
}
