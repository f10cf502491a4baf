using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace O2X.Streams.Stomp;

/// <summary>
/// STOMP 1.2 framing (https://stomp.github.io/stomp-specification-1.2.html): reads frames out of a byte sequence as they
/// arrive (partial frames wait for more bytes, end-of-lines between frames are heart-beats) and writes them.
/// </summary>
/// <remarks>
/// A frame is <c>COMMAND EOL (name:value EOL)* EOL body NUL</c>, EOL being LF or CR LF. With a <c>content-length</c> header
/// the body is exactly that many bytes (and may contain NUL); without it the body ends at the first NUL. Header names and
/// values escape CR, LF, colon and backslash as <c>\r</c>, <c>\n</c>, <c>\c</c>, <c>\\</c>, except in CONNECT and
/// CONNECTED; any other escape is a protocol error.
/// </remarks>
public static class StompFrameCodec
{
    private const byte Lf = (byte)'\n';
    private const byte Cr = (byte)'\r';
    private const byte Nul = 0;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads the next frame from <paramref name="buffer"/> and moves the buffer past it. Returns false when the buffer holds
    /// no complete frame yet (the buffer is then moved past heart-beats only). <paramref name="heartBeats"/> counts the
    /// end-of-lines skipped before the frame (or in the buffer, when there is no frame).
    /// </summary>
    /// <exception cref="StompProtocolException">The bytes are not a STOMP frame, or a frame is larger than <paramref name="maxFrameBytes"/>.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, [NotNullWhen(true)] out StompFrame? frame, out int heartBeats) =>
        TryRead(ref buffer, maxFrameBytes, skipOversizedBodies: false, out frame, out heartBeats, out _);

    /// <summary>Header a frame read with <c>skipOversizedBodies</c> carries when its body was skipped: the body's length in bytes.</summary>
    public const string OversizeHeader = "o2x-oversize";

    /// <summary>
    /// As <see cref="TryRead(ref ReadOnlySequence{byte}, int, out StompFrame?, out int)"/>; with <paramref name="skipOversizedBodies"/>, a MESSAGE
    /// whose <c>content-length</c> body is over the limit (while its headers are not) is returned without its body, marked with
    /// <see cref="OversizeHeader"/>, so that one message too large to hold can be refused rather than break the connection:
    /// <paramref name="skip"/> is then the number of its bytes (body and NUL) still to come, which the caller discards.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, bool skipOversizedBodies, [NotNullWhen(true)] out StompFrame? frame,
        out int heartBeats, out long skip)
    {
        skip = 0;
        frame = null;
        heartBeats = 0;
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryPeek(out var next))
        {
            if (next == Lf)
            {
                reader.Advance(1);
                heartBeats++;
            }
            else if (next == Cr && reader.Remaining >= 2 && reader.TryPeek(1, out var lf) && lf == Lf)
            {
                reader.Advance(2);
                heartBeats++;
            }
            else if (next == Cr && reader.Remaining < 2)
            {
                break; // half an EOL: wait for its LF
            }
            else
            {
                break;
            }
        }

        buffer = buffer.Slice(reader.Position);
        if (buffer.IsEmpty || (buffer.Length == 1 && buffer.FirstSpan[0] == Cr)) return false;

        reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> commandLine, Lf))
            return TooLargeOrWait(buffer, maxFrameBytes);
        var command = Text(TrimCr(commandLine), "command");
        if (command.Length == 0 || !command.All(char.IsAsciiLetterUpper))
            throw new StompProtocolException($"Not a STOMP command: '{Excerpt(command)}'.");

        var escaped = command is not ("CONNECT" or "CONNECTED");
        var headers = new List<KeyValuePair<string, string>>();
        while (true)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, Lf)) return TooLargeOrWait(buffer, maxFrameBytes);
            if (reader.Consumed > maxFrameBytes) throw TooLarge(maxFrameBytes);
            line = TrimCr(line);
            if (line.IsEmpty) break;
            headers.Add(Header(Text(line, "header"), escaped));
        }

        ReadOnlySequence<byte> body;
        var length = FirstValue(headers, "content-length");
        if (length is not null)
        {
            if (!int.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
                throw new StompProtocolException($"content-length is not a length: '{Excerpt(length)}'.");
            if (reader.Consumed + (long)bytes + 1 > maxFrameBytes)
            {
                if (!skipOversizedBodies || command != "MESSAGE") throw TooLarge(maxFrameBytes);
                headers.Add(new(OversizeHeader, length));
                frame = new StompFrame(command, headers);
                var here = Math.Min(reader.Remaining, (long)bytes + 1);
                skip = (long)bytes + 1 - here;
                buffer = buffer.Slice(reader.Position).Slice(here);
                return true;
            }

            if (reader.Remaining < (long)bytes + 1) return false;
            body = buffer.Slice(reader.Position, bytes);
            reader.Advance(bytes);
            if (!reader.TryRead(out var end) || end != Nul)
                throw new StompProtocolException($"The body is not followed by NUL after its content-length of {bytes} bytes.");
        }
        else
        {
            if (!reader.TryReadTo(out body, Nul)) return TooLargeOrWait(buffer, maxFrameBytes);
            if (reader.Consumed > maxFrameBytes) throw TooLarge(maxFrameBytes);
        }

        frame = new StompFrame(command, headers, body.ToArray());
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    /// <summary>Writes <paramref name="frame"/>; a body gets a <c>content-length</c> header unless the frame has one.</summary>
    public static void Write(StompFrame frame, IBufferWriter<byte> output)
    {
        var text = new StringBuilder(frame.Command.Length + 32 * frame.Headers.Count);
        text.Append(frame.Command).Append('\n');
        var escape = frame.EscapesHeaders;
        foreach (var (name, value) in frame.Headers)
        {
            if (name.Length == 0) throw new ArgumentException("A STOMP header needs a name.", nameof(frame));
            if (!escape && (HasFramingCharacter(name) || HasFramingCharacter(value) || name.Contains(':')))
                throw new ArgumentException($"{frame.Command} headers are not escaped: no CR or LF in a name or value, no colon in a name.", nameof(frame));
            AppendEscaped(text, name, escape).Append(':');
            AppendEscaped(text, value, escape).Append('\n');
        }

        var declared = frame["content-length"];
        var actual = frame.Body.Length.ToString(CultureInfo.InvariantCulture);
        if (declared is not null && declared != actual)
            throw new ArgumentException($"The frame's content-length ({declared}) is not its body's length ({actual}).", nameof(frame));
        if (declared is null && !frame.Body.IsEmpty) text.Append("content-length:").Append(actual).Append('\n');
        text.Append('\n');

        var header = text.ToString();
        var head = Utf8.GetByteCount(header);
        var span = output.GetSpan(head);
        Utf8.GetBytes(header, span);
        output.Advance(head);
        output.Write(frame.Body.Span);
        output.Write([Nul]);
    }

    /// <summary>The frame as bytes (for tests and one-off writes).</summary>
    public static byte[] ToBytes(StompFrame frame)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(frame, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One heart-beat: an end-of-line between frames.</summary>
    public static ReadOnlySpan<byte> HeartBeat => "\n"u8;

    private static bool TooLargeOrWait(ReadOnlySequence<byte> buffer, int maxFrameBytes) =>
        buffer.Length > maxFrameBytes ? throw TooLarge(maxFrameBytes) : false;

    private static StompProtocolException TooLarge(int maxFrameBytes) =>
        new($"A STOMP frame is larger than the limit of {maxFrameBytes} bytes.");

    private static ReadOnlySequence<byte> TrimCr(ReadOnlySequence<byte> line)
    {
        if (line.IsEmpty) return line;
        var last = line.Slice(line.Length - 1).FirstSpan[0];
        return last == Cr ? line.Slice(0, line.Length - 1) : line;
    }

    private static string Text(ReadOnlySequence<byte> bytes, string what)
    {
        try
        {
            return Utf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new StompProtocolException($"A STOMP {what} is not UTF-8.");
        }
    }

    private static KeyValuePair<string, string> Header(string line, bool escaped)
    {
        var colon = line.IndexOf(':');
        if (colon <= 0) throw new StompProtocolException($"Not a STOMP header (name:value): '{Excerpt(line)}'.");
        var name = line[..colon];
        var value = line[(colon + 1)..];
        return escaped ? new(Unescape(name), Unescape(value)) : new(name, value);
    }

    private static string Unescape(string text)
    {
        if (!text.Contains('\\')) return text;
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                result.Append(text[i]);
                continue;
            }

            if (++i == text.Length) throw new StompProtocolException("A STOMP header ends in a lone backslash.");
            result.Append(text[i] switch
            {
                'r' => '\r',
                'n' => '\n',
                'c' => ':',
                '\\' => '\\',
                var other => throw new StompProtocolException($"Undefined escape '\\{other}' in a STOMP header."),
            });
        }

        return result.ToString();
    }

    private static StringBuilder AppendEscaped(StringBuilder text, string value, bool escape)
    {
        if (!escape) return text.Append(value);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\r' => text.Append("\\r"),
                '\n' => text.Append("\\n"),
                ':' => text.Append("\\c"),
                '\\' => text.Append("\\\\"),
                _ => text.Append(c),
            };
        }

        return text;
    }

    private static bool HasFramingCharacter(string value) => value.AsSpan().IndexOfAny('\r', '\n') >= 0;

    private static string? FirstValue(List<KeyValuePair<string, string>> headers, string name)
    {
        foreach (var (key, value) in headers)
            if (key == name) return value;
        return null;
    }

    private static string Excerpt(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
