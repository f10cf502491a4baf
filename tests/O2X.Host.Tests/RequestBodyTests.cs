using Microsoft.AspNetCore.Http;
using O2X.Host.Apis;

namespace O2X.Host.Tests;

/// <summary>How an API reads a request body within its bound, with or without a Content-Length.</summary>
public sealed class RequestBodyTests
{
    private const int Max = 64 * 1024;

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 700)]
    [InlineData(true, 16 * 1024)]
    [InlineData(true, 40_000)]
    [InlineData(true, Max)]
    [InlineData(false, 1)]
    [InlineData(false, 16 * 1024)]
    [InlineData(false, 16 * 1024 + 1)]
    [InlineData(false, 40_000)]
    [InlineData(false, Max)]
    public async Task A_body_is_read_whole_in_small_reads_declared_or_across_buffers_chunked(bool declared, int size)
    {
        var sent = Bytes(size);

        var read = await IngestionApi.ReadBodyAsync(Request(sent, declared, pieces: declared ? 7 : 5_000), Max, CancellationToken.None);

        read.Should().Equal(sent);
    }

    [Fact]
    public async Task A_chunked_body_one_byte_over_the_bound_is_refused()
    {
        var read = await IngestionApi.ReadBodyAsync(Request(Bytes(Max + 1), declared: false, pieces: 16 * 1024), Max, CancellationToken.None);

        read.Should().BeNull();
    }

    [Fact]
    public async Task A_declared_length_over_the_bound_is_refused_before_anything_is_read()
    {
        var request = new DefaultHttpContext().Request;
        request.ContentLength = Max + 1;
        request.Body = new UnreadableStream();

        var read = await IngestionApi.ReadBodyAsync(request, Max, CancellationToken.None);

        read.Should().BeNull();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_empty_body_is_empty(bool declared)
    {
        var read = await IngestionApi.ReadBodyAsync(Request([], declared, pieces: 1), Max, CancellationToken.None);

        read.Should().NotBeNull().And.BeEmpty();
    }

    private static byte[] Bytes(int size)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        return bytes;
    }

    private static HttpRequest Request(byte[] body, bool declared, int pieces)
    {
        var request = new DefaultHttpContext().Request;
        request.Body = new TrickleStream(body, pieces);
        if (declared) request.ContentLength = body.Length;
        return request;
    }

    /// <summary>A body that hands out at most <c>piece</c> bytes per read, as a slow network does.</summary>
    private sealed class TrickleStream(byte[] data, int piece) : MemoryStream(data, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, piece));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, piece)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, piece), cancellationToken);
    }

    private sealed class UnreadableStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("read");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("read");

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("read");
    }
}
