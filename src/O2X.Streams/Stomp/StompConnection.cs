using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;

namespace O2X.Streams.Stomp;

/// <summary>The connection to a STOMP broker broke, or the broker refused a frame.</summary>
public sealed class StompConnectionException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// One STOMP 1.2 connection: TCP (or TLS) to the first endpoint that answers, CONNECT with the credentials, then a read loop
/// (MESSAGE frames to the owner's callback, RECEIPT and ERROR frames to the waiting senders) and a write loop that coalesces
/// queued frames into as few socket writes as it can (many receipts in flight). Heart-beats both ways; silence from the
/// broker for twice the agreed interval closes the connection. Any failure closes it for good: the owner opens a new one.
/// </summary>
internal sealed class StompConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly Socket _socket;
    private readonly Action<StompFrame> _onMessage;
    private readonly int _maxFrameBytes;
    private readonly Channel<StompFrame> _outgoing = Channel.CreateUnbounded<StompFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _receipts = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private long _receipt;
    private long _heartBeatsReceived;
    private long _heartBeatsSent;
    private long _lastHeard = Stopwatch.GetTimestamp();
    private TimeSpan _send;
    private TimeSpan _expect;

    private StompConnection(StompEndpoint endpoint, Socket socket, Stream stream, Action<StompFrame> onMessage, int maxFrameBytes)
    {
        Endpoint = endpoint;
        _socket = socket;
        _stream = stream;
        _onMessage = onMessage;
        _maxFrameBytes = maxFrameBytes;
    }

    public StompEndpoint Endpoint { get; }

    /// <summary>The broker's <c>server</c> header (e.g. <c>ActiveMQ/5.17.2</c>).</summary>
    public string? Server { get; private set; }

    public bool IsOpen => !_closed.Task.IsCompleted;

    public long HeartBeatsReceived => Interlocked.Read(ref _heartBeatsReceived);

    public long HeartBeatsSent => Interlocked.Read(ref _heartBeatsSent);

    /// <summary>Completes with the reason once the connection is closed (by either side, or broken).</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>
    /// Connects to the first endpoint of <paramref name="settings"/> that answers (in order: the active broker of an
    /// active/standby pair is the one listening). <paramref name="onMessage"/> is called on the read loop for every MESSAGE.
    /// </summary>
    public static async Task<StompConnection> ConnectAsync(StompConnectionSettings settings, Action<StompFrame> onMessage, CancellationToken cancellation)
    {
        var problems = new List<string>();
        foreach (var endpoint in settings.Endpoints)
        {
            try
            {
                return await ConnectAsync(endpoint, settings, onMessage, cancellation).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellation.IsCancellationRequested)
            {
                problems.Add($"{endpoint}: {ex.Message}");
            }
        }

        throw new StompConnectionException(settings.Endpoints.Count == 1
            ? $"Cannot connect to the STOMP broker {problems[0]}"
            : $"No STOMP broker of {settings.Endpoints.Count} answered: {string.Join("; ", problems)}");
    }

    private static async Task<StompConnection> ConnectAsync(StompEndpoint endpoint, StompConnectionSettings settings, Action<StompFrame> onMessage,
        CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(settings.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            try
            {
                await socket.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token).ConfigureAwait(false);
                stream = new NetworkStream(socket, ownsSocket: false);
                if (endpoint.Tls)
                {
                    var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                    stream = tls;
                    await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = endpoint.Host,
                        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                        RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Trusted(certificate, chain, errors, settings.TrustedCertificates),
                    }, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new TimeoutException($"no answer within {settings.ConnectTimeout.TotalSeconds:0.#} s");
            }
            catch (AuthenticationException ex)
            {
                throw new StompConnectionException("TLS handshake failed (is the broker's certificate trusted? see TrustedCertificates): " + ex.Message, ex);
            }

            var connection = new StompConnection(endpoint, socket, stream, onMessage, settings.MaxFrameBytes);
            await connection.HandshakeAsync(settings, timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            throw;
        }
    }

    private static bool Trusted(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection trusted)
    {
        if (trusted.Count == 0) return errors == SslPolicyErrors.None;
        // A private CA: the name must match, and the chain must end in one of the configured certificates.
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Intermediates the broker sent along (a private CA's issuing certificate) may complete the chain.
        if (presented is not null)
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    private async Task HandshakeAsync(StompConnectionSettings settings, CancellationToken cancellation)
    {
        var headers = new List<KeyValuePair<string, string>>
        {
            new("accept-version", "1.2"),
            new("host", settings.VirtualHost ?? Endpoint.Host),
            new("heart-beat", StompHeartBeat.Offer(settings.HeartBeat, settings.HeartBeat)),
        };
        if (settings.Username is not null) headers.Add(new("login", settings.Username));
        if (settings.Passcode is not null) headers.Add(new("passcode", settings.Passcode));
        byte[] connect;
        try
        {
            connect = StompFrameCodec.ToBytes(new StompFrame("CONNECT", headers));
        }
        catch (ArgumentException)
        {
            // The codec's message names no value; say which setting it is without showing it.
            throw new StompConnectionException("The STOMP login or passcode contains a line break, which CONNECT cannot carry.");
        }

        await _stream.WriteAsync(connect, cancellation).ConfigureAwait(false);
        await _stream.FlushAsync(cancellation).ConfigureAwait(false);

        var reply = await ReadFirstFrameAsync(cancellation).ConfigureAwait(false);
        if (reply.Command == "ERROR")
            throw new StompConnectionException("The broker refused the connection: " + Describe(reply));
        if (reply.Command != "CONNECTED")
            throw new StompConnectionException($"The broker answered CONNECT with {reply.Command}, not CONNECTED.");
        if (reply["version"] is { } version && version != "1.2")
            throw new StompConnectionException($"The broker speaks STOMP {version}; O2X needs 1.2.");
        Server = reply["server"];
        (_send, _expect) = StompHeartBeat.Negotiate(settings.HeartBeat, settings.HeartBeat, reply["heart-beat"]);
        _ = Task.Run(ReadLoopAsync);
        _ = Task.Run(WriteLoopAsync);
        if (_expect > TimeSpan.Zero) _ = Task.Run(WatchHeartBeatsAsync);
    }

    // Bytes read past the CONNECTED frame (a broker may send right after it) are kept for the read loop.
    private byte[] _buffer = new byte[64 * 1024];
    private int _buffered;

    private async Task<StompFrame> ReadFirstFrameAsync(CancellationToken cancellation)
    {
        while (true)
        {
            if (TryTakeFrame(out var frame)) return frame;
            await FillAsync(cancellation).ConfigureAwait(false);
        }
    }

    // Bytes of an oversized MESSAGE body still to be discarded as they arrive.
    private long _skip;

    private bool TryTakeFrame(out StompFrame frame)
    {
        if (_skip > 0)
        {
            var discard = (int)Math.Min(_skip, _buffered);
            Buffer.BlockCopy(_buffer, discard, _buffer, 0, _buffered - discard);
            _buffered -= discard;
            _skip -= discard;
            if (_skip > 0)
            {
                frame = null!;
                return false;
            }
        }

        var sequence = new ReadOnlySequence<byte>(_buffer, 0, _buffered);
        var found = StompFrameCodec.TryRead(ref sequence, _maxFrameBytes, skipOversizedBodies: true, out var read, out var beats, out var skip);
        _skip = skip;
        if (beats > 0) Interlocked.Add(ref _heartBeatsReceived, beats);
        var consumed = _buffered - (int)sequence.Length;
        if (consumed > 0)
        {
            Buffer.BlockCopy(_buffer, consumed, _buffer, 0, _buffered - consumed);
            _buffered -= consumed;
        }

        frame = read!;
        return found;
    }

    private async Task FillAsync(CancellationToken cancellation)
    {
        if (_buffered == _buffer.Length) Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, _maxFrameBytes + 64 * 1024));
        if (_buffered == _buffer.Length) throw new StompProtocolException($"A STOMP frame is larger than the limit of {_maxFrameBytes} bytes.");
        var read = await _stream.ReadAsync(_buffer.AsMemory(_buffered), cancellation).ConfigureAwait(false);
        if (read == 0) throw new StompConnectionException("The broker closed the connection.");
        _buffered += read;
        Volatile.Write(ref _lastHeard, Stopwatch.GetTimestamp());
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                while (TryTakeFrame(out var frame)) Dispatch(frame);
                await FillAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Fail(ex is OperationCanceledException ? "closed" : ex.Message);
        }
    }

    private void Dispatch(StompFrame frame)
    {
        switch (frame.Command)
        {
            case "MESSAGE":
                _onMessage(frame);
                break;
            case "RECEIPT":
                if (frame["receipt-id"] is { } id && _receipts.TryRemove(id, out var waiting)) waiting.TrySetResult();
                break;
            case "ERROR":
                // The broker closes the connection after an ERROR; whoever waited for a receipt learns why.
                var reason = "The broker sent an ERROR: " + Describe(frame);
                if (frame["receipt-id"] is { } failed && _receipts.TryRemove(failed, out var refused))
                    refused.TrySetException(new StompConnectionException(reason));
                Fail(reason);
                break;
        }
    }

    private async Task WriteLoopAsync()
    {
        var output = new ArrayBufferWriter<byte>(16 * 1024);
        var reader = _outgoing.Reader;
        try
        {
            Task<bool>? waiting = null;
            while (true)
            {
                waiting ??= reader.WaitToReadAsync(_stop.Token).AsTask();
                if (!waiting.IsCompleted && _send > TimeSpan.Zero)
                {
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    var timer = Task.Delay(_send, idle.Token);
                    var first = await Task.WhenAny(waiting, timer).ConfigureAwait(false);
                    idle.Cancel(); // no timer left behind per wait
                    if (first != waiting)
                    {
                        await _stream.WriteAsync(StompFrameCodec.HeartBeat.ToArray(), _stop.Token).ConfigureAwait(false);
                        await _stream.FlushAsync(_stop.Token).ConfigureAwait(false);
                        Interlocked.Increment(ref _heartBeatsSent);
                        continue;
                    }
                }

                if (!await waiting.ConfigureAwait(false)) return;
                waiting = null;
                // Let whoever is queueing right now (a burst of ACKs as a batch settles, a pipelined batch of SENDs) finish first:
                // one write for all of them costs the broker one read instead of many.
                await Task.Yield();
                output.ResetWrittenCount();
                while (output.WrittenCount < 256 * 1024 && reader.TryRead(out var frame))
                {
                    try
                    {
                        StompFrameCodec.Write(frame, output);
                    }
                    catch (ArgumentException ex)
                    {
                        // A frame the codec refuses (checked before any of its bytes are written) fails alone, not the connection.
                        if (frame["receipt"] is { } id && _receipts.TryRemove(id, out var refused))
                            refused.TrySetException(new StompConnectionException("The frame cannot be sent: " + ex.Message, ex));
                    }
                }
                await _stream.WriteAsync(output.WrittenMemory, _stop.Token).ConfigureAwait(false);
                await _stream.FlushAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Fail(ex is OperationCanceledException ? "closed" : "writing: " + ex.Message);
        }
    }

    private async Task WatchHeartBeatsAsync()
    {
        // The specification asks for some tolerance. A broker that sends only when it wrote nothing for a whole interval can
        // stay silent for nearly two intervals, so three is the limit.
        var limit = _expect * 3;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(_expect, _stop.Token).ConfigureAwait(false);
                var silent = Stopwatch.GetElapsedTime(Volatile.Read(ref _lastHeard));
                if (silent > limit)
                {
                    Fail($"no heart-beat from the broker for {silent.TotalSeconds:0.#} s (agreed: every {_expect.TotalSeconds:0.#} s)");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closed.
        }
    }

    /// <summary>Queues a frame for writing (no receipt). Throws when the connection is closed.</summary>
    public void Send(StompFrame frame)
    {
        if (!IsOpen || !_outgoing.Writer.TryWrite(frame))
            throw new StompConnectionException("The STOMP connection is closed: " + (_closed.Task.IsCompleted ? _closed.Task.Result : "closing"));
    }

    /// <summary>
    /// Queues a frame with a <c>receipt</c> header and completes when the broker's RECEIPT arrives; throws when the broker
    /// answers with an ERROR, the connection breaks first, or <paramref name="timeout"/> passes (the connection is then
    /// closed: a broker that does not answer cannot be trusted with the next frame either).
    /// </summary>
    public Task SendWithReceiptAsync(string command, List<KeyValuePair<string, string>> headers, ReadOnlyMemory<byte> body, TimeSpan timeout)
    {
        var id = Interlocked.Increment(ref _receipt).ToString(CultureInfo.InvariantCulture);
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _receipts[id] = waiting;
        headers.Add(new("receipt", id));
        try
        {
            Send(new StompFrame(command, headers, body));
        }
        catch
        {
            _receipts.TryRemove(id, out _);
            throw;
        }

        if (!IsOpen && _receipts.TryRemove(id, out _)) waiting.TrySetException(new StompConnectionException("The STOMP connection is closed: " + _closed.Task.Result));
        return WithTimeout(waiting.Task, id, timeout);
    }

    private async Task WithTimeout(Task receipt, string id, TimeSpan timeout)
    {
        if (receipt.IsCompleted)
        {
            await receipt.ConfigureAwait(false);
            return;
        }

        try
        {
            await receipt.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _receipts.TryRemove(id, out _);
            Fail($"no receipt from the broker within {timeout.TotalSeconds:0.#} s");
            throw new StompConnectionException($"No receipt from the STOMP broker within {timeout.TotalSeconds:0.#} s.");
        }
    }

    private void Fail(string reason)
    {
        if (!_closed.TrySetResult(reason)) return;
        _outgoing.Writer.TryComplete();
        _stop.Cancel();
        foreach (var id in _receipts.Keys)
            if (_receipts.TryRemove(id, out var waiting))
                waiting.TrySetException(new StompConnectionException("The STOMP connection closed before the broker's receipt: " + reason));
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }

        _stream.Dispose();
        _socket.Dispose();
    }

    /// <summary>Graceful close: DISCONNECT, wait (briefly) for its receipt so that everything sent before it was processed, close.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsOpen)
        {
            try
            {
                await SendWithReceiptAsync("DISCONNECT", [], default, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (StompConnectionException)
            {
                // Broken or silent: closing is all that is left.
            }
        }

        Fail("closed by the client");
    }

    private static string Describe(StompFrame error)
    {
        var message = error["message"] ?? "(no message)";
        var body = System.Text.Encoding.UTF8.GetString(error.Body.Span);
        var firstLine = body.Split('\n', 2)[0].Trim();
        var text = firstLine.Length > 0 && !message.Contains(firstLine, StringComparison.Ordinal) ? $"{message} — {firstLine}" : message;
        return text.Length > 300 ? text[..300] + "…" : text;
    }
}
