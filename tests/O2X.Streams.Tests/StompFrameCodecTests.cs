using System.Buffers;
using System.Text;
using FluentAssertions;
using O2X.Streams.Stomp;
using Xunit;

namespace O2X.Streams.Tests;

/// <summary>STOMP 1.2 framing: escaping, bodies with and without content-length, heart-beats, partial reads, errors.</summary>
public sealed class StompFrameCodecTests
{
    private const int Limit = 64 * 1024;

    [Fact]
    public void Headers_with_colons_newlines_and_backslashes_survive_a_round_trip()
    {
        var sent = new StompFrame("SEND", [new("destination", "/queue/OMS"), new("o2x:key\\1", "a:b\r\nc\\d")], "{}"u8.ToArray());

        var bytes = StompFrameCodec.ToBytes(sent);
        var wire = Encoding.UTF8.GetString(bytes);

        wire.Should().Contain("o2x\\ckey\\\\1:a\\cb\\r\\nc\\\\d\n", "CR, LF, colon and backslash are escaped on the wire");
        wire.Should().Contain("content-length:2\n").And.EndWith("\n\n{}\0");
        var received = ReadAll(bytes).Single();
        received.Command.Should().Be("SEND");
        received["o2x:key\\1"].Should().Be("a:b\r\nc\\d");
        received["destination"].Should().Be("/queue/OMS");
        Encoding.UTF8.GetString(received.Body.Span).Should().Be("{}");
    }

    [Fact]
    public void Connect_and_connected_headers_are_not_unescaped()
    {
        var frame = ReadAll(Bytes("CONNECTED\nversion:1.2\nserver:ActiveMQ/5.17.6\\x\nheart-beat:0,10000\n\n\0")).Single();

        frame["server"].Should().Be("ActiveMQ/5.17.6\\x", "CONNECTED values are taken literally");
        frame["heart-beat"].Should().Be("0,10000");
        var connect = Encoding.UTF8.GetString(StompFrameCodec.ToBytes(new StompFrame("CONNECT", [new("passcode", "p\\a")])));
        connect.Should().Contain("passcode:p\\a\n");
        FluentActions.Invoking(() => StompFrameCodec.ToBytes(new StompFrame("CONNECT", [new("login", "a\nb")])))
            .Should().Throw<ArgumentException>("an unescaped LF would end the header");
    }

    [Fact]
    public void A_body_with_content_length_may_contain_nul_bytes()
    {
        byte[] body = [1, 0, 2, 0, 0, 3];
        var bytes = StompFrameCodec.ToBytes(new StompFrame("MESSAGE", [new("message-id", "ID:1")], body));

        var frame = ReadAll(bytes).Single();

        frame.Body.ToArray().Should().Equal(body);
        frame["content-length"].Should().Be("6");
    }

    [Fact]
    public void Without_content_length_the_body_ends_at_the_first_nul_and_crlf_lines_are_read()
    {
        var frames = ReadAll(Bytes("MESSAGE\r\nmessage-id:ID:7\r\nsubscription:0\r\n\r\nhello\0RECEIPT\nreceipt-id:r-1\n\n\0"));

        frames.Select(f => f.Command).Should().Equal("MESSAGE", "RECEIPT");
        frames[0]["message-id"].Should().Be("ID:7");
        Encoding.UTF8.GetString(frames[0].Body.Span).Should().Be("hello");
        frames[1]["receipt-id"].Should().Be("r-1");
        frames[1].Body.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void End_of_lines_between_frames_are_heart_beats()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes("\n\r\n\nRECEIPT\nreceipt-id:1\n\n\0\n\n"));

        StompFrameCodec.TryRead(ref buffer, Limit, out var frame, out var before).Should().BeTrue();
        StompFrameCodec.TryRead(ref buffer, Limit, out var none, out var after).Should().BeFalse();

        frame!["receipt-id"].Should().Be("1");
        before.Should().Be(3);
        none.Should().BeNull();
        after.Should().Be(2);
        buffer.IsEmpty.Should().BeTrue("heart-beats are consumed even when no frame follows");
    }

    [Fact]
    public void A_frame_arriving_a_byte_at_a_time_is_read_once_it_is_complete()
    {
        var bytes = StompFrameCodec.ToBytes(new StompFrame("MESSAGE", [new("message-id", "ID:x:1"), new("destination", "/queue/OMS")],
            Encoding.UTF8.GetBytes("{\"order\":1}")));
        var pending = new List<byte>();
        var frames = new List<StompFrame>();

        foreach (var b in bytes.Concat(bytes))
        {
            pending.Add(b);
            var buffer = new ReadOnlySequence<byte>(pending.ToArray());
            while (StompFrameCodec.TryRead(ref buffer, Limit, out var frame, out _)) frames.Add(frame);
            pending = [.. buffer.ToArray()];
        }

        frames.Should().HaveCount(2);
        frames.Should().OnlyContain(f => f["message-id"] == "ID:x:1" && Encoding.UTF8.GetString(f.Body.ToArray()) == "{\"order\":1}");
        pending.Should().BeEmpty();
    }

    [Fact]
    public void A_frame_split_across_buffer_segments_is_read()
    {
        var bytes = StompFrameCodec.ToBytes(new StompFrame("SEND", [new("destination", "/queue/A")], new byte[300]));
        var sequence = Segments(bytes, 7);

        var frame = ReadAll(sequence).Single();

        frame.Body.Length.Should().Be(300);
    }

    [Fact]
    public void An_error_frame_carries_its_message_header_and_body()
    {
        var frame = ReadAll(Bytes("ERROR\nmessage:User name [x] or password is invalid.\ncontent-type:text/plain\ncontent-length:9\n\nbad login\0")).Single();

        frame.Command.Should().Be("ERROR");
        frame["message"].Should().Be("User name [x] or password is invalid.");
        Encoding.UTF8.GetString(frame.Body.Span).Should().Be("bad login");
    }

    [Fact]
    public void A_content_length_that_is_not_the_bodys_is_refused_when_writing()
    {
        FluentActions.Invoking(() => StompFrameCodec.ToBytes(new StompFrame("SEND", [new("content-length", "5")], new byte[3])))
            .Should().Throw<ArgumentException>().WithMessage("*content-length (5)*(3)*");
    }

    [Fact]
    public void A_repeated_header_keeps_its_first_value()
    {
        var frame = ReadAll(Bytes("MESSAGE\nfoo:World\nfoo:Hello\n\n\0")).Single();

        frame["foo"].Should().Be("World");
        frame.Headers.Should().HaveCount(2);
    }

    [Theory]
    [InlineData("MESSAGE\nfoo:a\\tb\n\n\0", "Undefined escape")]
    [InlineData("MESSAGE\nfoo:a\\\n\n\0", "lone backslash")]
    [InlineData("MESSAGE\nno colon\n\n\0", "Not a STOMP header")]
    [InlineData("message\n\n\0", "Not a STOMP command")]
    [InlineData("MESSAGE\ncontent-length:-1\n\n\0", "not a length")]
    [InlineData("MESSAGE\ncontent-length:2\n\nabc\0", "not followed by NUL")]
    public void Malformed_frames_are_protocol_errors(string wire, string because)
    {
        FluentActions.Invoking(() => ReadAll(Bytes(wire))).Should().Throw<StompProtocolException>().WithMessage($"*{because}*");
    }

    [Fact]
    public void A_frame_over_the_limit_is_refused_before_it_is_complete()
    {
        var header = Bytes("MESSAGE\ncontent-length:100000\n\n");
        var unterminated = Bytes("MESSAGE\nx:" + new string('a', 2_000));

        FluentActions.Invoking(() => ReadAll(header, limit: 1_024)).Should().Throw<StompProtocolException>().WithMessage("*larger than the limit*");
        FluentActions.Invoking(() => ReadAll(unterminated, limit: 1_024)).Should().Throw<StompProtocolException>().WithMessage("*larger than the limit*");
    }

    [Fact]
    public void An_oversized_message_body_can_be_skipped_so_that_the_message_is_refused_and_the_connection_lives()
    {
        // Headers, 600 of the body's 5,000 bytes so far; the rest (and the NUL) are still on their way.
        byte[] arrived = [.. Bytes("MESSAGE\nack:a-1\ncontent-length:5000\n\n"), .. new byte[600]];
        var buffer = new ReadOnlySequence<byte>(arrived);

        StompFrameCodec.TryRead(ref buffer, 1_024, skipOversizedBodies: true, out var frame, out _, out var skip).Should().BeTrue();

        frame!.Command.Should().Be("MESSAGE");
        frame["ack"].Should().Be("a-1", "it can still be acknowledged once refused");
        frame[StompFrameCodec.OversizeHeader].Should().Be("5000");
        frame.Body.IsEmpty.Should().BeTrue();
        skip.Should().Be(5_000 - 600 + 1, "the rest of the body and its NUL are discarded as they arrive");
        buffer.IsEmpty.Should().BeTrue();

        // Only MESSAGE bodies are skipped: an oversized frame of any other kind is still a protocol error.
        var error = new ReadOnlySequence<byte>(Bytes("ERROR\ncontent-length:5000\n\n"));
        FluentActions.Invoking(() => StompFrameCodec.TryRead(ref error, 1_024, skipOversizedBodies: true, out _, out _, out _))
            .Should().Throw<StompProtocolException>();
    }

    [Fact]
    public void Non_utf8_headers_are_protocol_errors()
    {
        byte[] wire = [.. "MESSAGE\nfoo:"u8, 0xC3, 0x28, .. "\n\n\0"u8];

        FluentActions.Invoking(() => ReadAll(wire)).Should().Throw<StompProtocolException>().WithMessage("*not UTF-8*");
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static List<StompFrame> ReadAll(byte[] bytes, int limit = Limit) => ReadAll(new ReadOnlySequence<byte>(bytes), limit);

    private static List<StompFrame> ReadAll(ReadOnlySequence<byte> buffer, int limit = Limit)
    {
        var frames = new List<StompFrame>();
        while (StompFrameCodec.TryRead(ref buffer, limit, out var frame, out _)) frames.Add(frame);
        return frames;
    }

    private static ReadOnlySequence<byte> Segments(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var i = 0; i < bytes.Length; i += size)
        {
            var memory = bytes.AsMemory(i, Math.Min(size, bytes.Length - i));
            if (first is null) first = last = new Segment(memory, 0);
            else last = last!.Append(memory);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
