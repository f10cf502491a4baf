namespace O2X.Streams.Stomp;

/// <summary>
/// One STOMP 1.2 frame: a command, headers in the order they were sent (a repeated header keeps every occurrence; the
/// first one is the one that counts, as the specification says) and a body of bytes.
/// </summary>
public sealed class StompFrame
{
    public StompFrame(string command, IReadOnlyList<KeyValuePair<string, string>>? headers = null, ReadOnlyMemory<byte> body = default)
    {
        if (string.IsNullOrEmpty(command) || !command.All(char.IsAsciiLetterUpper))
            throw new ArgumentException($"A STOMP command is upper-case ASCII letters (was '{command}').", nameof(command));
        Command = command;
        Headers = headers ?? [];
        Body = body;
    }

    public string Command { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The first value of header <paramref name="name"/>, or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var (key, value) in Headers)
                if (string.Equals(key, name, StringComparison.Ordinal)) return value;
            return null;
        }
    }

    /// <summary>CONNECT and CONNECTED frames carry their headers unescaped (STOMP 1.2, "Value Encoding").</summary>
    internal bool EscapesHeaders => Command is not ("CONNECT" or "CONNECTED");

    public override string ToString() => $"{Command} ({Headers.Count} headers, {Body.Length} bytes)";
}

/// <summary>A peer broke the STOMP protocol (a malformed frame, an undefined escape, a frame over the size limit).</summary>
public sealed class StompProtocolException(string message) : Exception(message);
