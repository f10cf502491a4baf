using System.Net.Sockets;
using System.Text;

namespace O2X.Testing;

/// <summary>A frame as <see cref="RawStompClient"/> reads it.</summary>
public sealed record RawStompFrame(string Command, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// STOMP 1.2 spoken by hand on a plain socket, sharing no code with O2X's connector: what an outside system (or the benchmark's
/// ceiling) does. No reconnection, no heart-beats, no TLS; one caller at a time. Frames the caller did not ask for yet (a MESSAGE
/// read while waiting for a RECEIPT) are kept in order for <see cref="ReceiveAsync"/>.
/// </summary>
public sealed class RawStompClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly Queue<RawStompFrame> _messages = new();
    private readonly byte[] _buffer = new byte[1 << 20];
    private readonly MemoryStream _pending = new();
    private int _start;
    private int _end;
    private int _receipt;

    private RawStompClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawStompClient> ConnectAsync(int port, string user, string password)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new RawStompClient(tcp);
        await client.WriteAsync($"CONNECT\naccept-version:1.2\nhost:localhost\nlogin:{user}\npasscode:{password}\nheart-beat:0,0\n\n\0");
        var connected = await client.ReadFrameAsync(TimeSpan.FromSeconds(10));
        if (connected?.Command != "CONNECTED") throw new InvalidOperationException($"CONNECT answered {connected?.Command}: {connected?.Headers.GetValueOrDefault("message")}");
        return client;
    }

    /// <summary>Queues a SEND with a receipt (not flushed to the broker until <see cref="FlushAsync"/> or a blocking call).</summary>
    public int QueueSend(string destination, string body, IReadOnlyDictionary<string, string>? headers = null) =>
        QueueSend(destination, Encoding.UTF8.GetBytes(body), headers);

    /// <summary>Queues a SEND of raw body bytes with a receipt.</summary>
    public int QueueSend(string destination, byte[] bytes, IReadOnlyDictionary<string, string>? headers = null)
    {
        var id = ++_receipt;
        var frame = new StringBuilder("SEND\n").Append("destination:").Append(Escape(destination)).Append('\n')
            .Append("receipt:").Append(id).Append('\n');
        if (headers is not null)
            foreach (var (name, value) in headers) frame.Append(Escape(name)).Append(':').Append(Escape(value)).Append('\n');
        frame.Append("content-length:").Append(bytes.Length).Append("\n\n");
        _pending.Write(Encoding.UTF8.GetBytes(frame.ToString()));
        _pending.Write(bytes);
        _pending.WriteByte(0);
        return id;
    }

    public async Task FlushAsync()
    {
        if (_pending.Length == 0) return;
        await _stream.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length));
        _pending.SetLength(0);
    }

    /// <summary>Sends and waits for the receipts of everything queued so far.</summary>
    public async Task SendAsync(string destination, string body, IReadOnlyDictionary<string, string>? headers = null)
    {
        var last = QueueSend(destination, body, headers);
        await AwaitReceiptAsync(last);
    }

    /// <summary>Flushes and waits until the receipt <paramref name="id"/> (and so, in order, every one before it) arrived.</summary>
    public async Task AwaitReceiptAsync(int id)
    {
        await FlushAsync();
        while (true)
        {
            var frame = await ReadFrameAsync(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"No receipt {id} within 30 s.");
            if (frame.Command == "ERROR") throw new InvalidOperationException("ERROR: " + frame.Headers.GetValueOrDefault("message"));
            if (frame.Command == "MESSAGE") _messages.Enqueue(frame);
            else if (frame.Command == "RECEIPT" && frame.Headers.GetValueOrDefault("receipt-id") == id.ToString()) return;
        }
    }

    public async Task SubscribeAsync(string destination, string ack = "client-individual", int prefetch = 1000, IReadOnlyDictionary<string, string>? headers = null)
    {
        var id = ++_receipt;
        var extra = string.Concat((headers ?? new Dictionary<string, string>()).Select(h => $"{Escape(h.Key)}:{Escape(h.Value)}\n"));
        await WriteAsync($"SUBSCRIBE\nid:{id}\ndestination:{Escape(destination)}\nack:{ack}\nactivemq.prefetchSize:{prefetch}\n{extra}receipt:{id}\n\n\0");
        await AwaitReceiptAsync(id);
    }

    /// <summary>The next MESSAGE, or null when none arrives within <paramref name="timeout"/>.</summary>
    public async Task<RawStompFrame?> ReceiveAsync(TimeSpan timeout)
    {
        if (_messages.TryDequeue(out var queued)) return queued;
        while (await ReadFrameAsync(timeout) is { } frame)
            if (frame.Command == "MESSAGE") return frame;
            else if (frame.Command == "ERROR") throw new InvalidOperationException("ERROR: " + frame.Headers.GetValueOrDefault("message"));
        return null;
    }

    /// <summary>Queues an ACK (client-individual) of a received MESSAGE.</summary>
    public void QueueAck(RawStompFrame message) =>
        _pending.Write(Encoding.UTF8.GetBytes($"ACK\nid:{Escape(message.Headers["ack"])}\n\n\0"));

    /// <summary>Queues a NACK of a received MESSAGE (ActiveMQ: to its dead-letter queue).</summary>
    public void QueueNack(RawStompFrame message) =>
        _pending.Write(Encoding.UTF8.GetBytes($"NACK\nid:{Escape(message.Headers["ack"])}\n\n\0"));

    private Task WriteAsync(string frame) => _stream.WriteAsync(Encoding.UTF8.GetBytes(frame)).AsTask();

    private async Task<RawStompFrame?> ReadFrameAsync(TimeSpan timeout)
    {
        if (TryParse(out var buffered)) return buffered; // no timer for what is already here
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            if (TryParse(out var frame)) return frame;
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            int read;
            try
            {
                // Whatever was queued (acks) goes out before waiting for the broker, and only then: as few writes as possible.
                if (_tcp.Available == 0) await FlushAsync();
                read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancel.Token);
            }
            catch (OperationCanceledException)
            {
                return null;
            }

            if (read == 0) throw new IOException("The broker closed the connection.");
            _end += read;
        }
    }

    private bool TryParse(out RawStompFrame frame)
    {
        frame = null!;
        var i = _start;
        while (i < _end && (_buffer[i] == '\n' || _buffer[i] == '\r')) i++; // heart-beats
        _start = i;
        var headerEnd = IndexOf("\n\n"u8, i);
        if (headerEnd < 0) return false;
        var lines = Encoding.UTF8.GetString(_buffer, i, headerEnd - i).Replace("\r", "").Split('\n');
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            headers.TryAdd(Unescape(line[..colon]), Unescape(line[(colon + 1)..]));
        }

        var bodyStart = headerEnd + 2;
        int bodyEnd;
        if (headers.TryGetValue("content-length", out var length))
        {
            bodyEnd = bodyStart + int.Parse(length);
            if (bodyEnd + 1 > _end) return false;
        }
        else
        {
            bodyEnd = Array.IndexOf(_buffer, (byte)0, bodyStart, _end - bodyStart);
            if (bodyEnd < 0) return false;
        }

        frame = new RawStompFrame(lines[0], headers, _buffer[bodyStart..bodyEnd]);
        _start = bodyEnd + 1;
        return true;
    }

    private int IndexOf(ReadOnlySpan<byte> value, int from)
    {
        var at = _buffer.AsSpan(from, _end - from).IndexOf(value);
        return at < 0 ? -1 : from + at;
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r").Replace(":", "\\c");

    private static string Unescape(string value) =>
        value.Replace("\\\\", "\u0000").Replace("\\n", "\n").Replace("\\r", "\r").Replace("\\c", ":").Replace("\u0000", "\\");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await FlushAsync();
            await WriteAsync("DISCONNECT\n\n\0");
        }
        catch (IOException)
        {
            // The broker is gone already.
        }

        _tcp.Dispose();
    }
}
