namespace O2X.Host.Hosting;

/// <summary>Who may use the administrative endpoints (<c>O2X:Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "O2X:Admin";

    /// <summary>
    /// Bearer token for administrative endpoints from other hosts. Unset: they answer loopback callers only.
    /// Set it through the environment (<c>O2X__Admin__Token</c>); it is never logged.
    /// </summary>
    public string? Token { get; set; }

    public IEnumerable<string> Validate()
    {
        if (Token is not null && Token.Length < 16)
            yield return $"{Section}:Token must be at least 16 characters (it guards requeue and purge of dead letters).";
    }
}
