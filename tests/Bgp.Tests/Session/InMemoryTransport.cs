using System.IO.Pipelines;
using System.Net;
using BareLb.Bgp.Transport;

namespace BareLb.Bgp.Tests.Session;

/// <summary>A connected pair of in-memory byte streams: what one side writes, the other reads.</summary>
internal sealed class DuplexStream(Stream input, Stream output, Pipe inbound, Pipe outbound) : Stream
{
    public static (DuplexStream A, DuplexStream B) CreatePair()
    {
        var ab = new Pipe();
        var ba = new Pipe();
        return (new DuplexStream(ba.Reader.AsStream(), ab.Writer.AsStream(), ba, ab),
                new DuplexStream(ab.Reader.AsStream(), ba.Writer.AsStream(), ab, ba));
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => output.WriteAsync(buffer, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Closing our end: the peer reads end-of-stream, and our pending read ends too.
            outbound.Writer.Complete();
            inbound.Reader.Complete();
            inbound.Writer.CancelPendingFlush();
            input.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// A connector that hands the far end of each new in-memory connection to <see cref="OnConnect"/> (another session,
/// or a scripted peer), or fails while <see cref="Refuse"/> is set.
/// </summary>
internal sealed class InMemoryConnector : IBgpConnector
{
    public static readonly IPEndPoint LocalEnd = new(IPAddress.Parse("198.51.100.10"), 40000);
    public static readonly IPEndPoint PeerEnd = new(IPAddress.Parse("198.51.100.1"), 179);

    public Func<DuplexStream, bool>? OnConnect { get; set; }
    public bool Refuse { get; set; }
    public int Attempts;

    public Task<BgpConnection> ConnectAsync(CancellationToken ct)
    {
        Interlocked.Increment(ref Attempts);
        if (Refuse)
        {
            throw new IOException("connection refused");
        }
        var (a, b) = DuplexStream.CreatePair();
        if (OnConnect is null || !OnConnect(b))
        {
            b.Dispose();
            throw new IOException("connection refused");
        }
        return Task.FromResult(new BgpConnection(a, LocalEnd, PeerEnd));
    }
}
