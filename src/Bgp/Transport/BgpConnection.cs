using System.Net;
using System.Net.Sockets;

namespace BareLb.Bgp.Transport;

/// <summary>One transport connection to the peer: a byte stream and, when known, both ends' addresses.</summary>
internal sealed class BgpConnection(Stream stream, IPEndPoint? local, IPEndPoint? remote, Socket? socket = null) : IAsyncDisposable
{
    public Stream Stream { get; } = stream;
    public IPEndPoint? Local { get; } = local;
    public IPEndPoint? Remote { get; } = remote;
    public Socket? Socket { get; } = socket;

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync().ConfigureAwait(false);
        Socket?.Dispose();
    }
}

/// <summary>Opens outbound connections to one peer (TCP in production, in-memory pipes in tests).</summary>
internal interface IBgpConnector
{
    Task<BgpConnection> ConnectAsync(CancellationToken ct);
}

/// <summary>Creates the sockets BGP uses; tests substitute one that creates them inside a network namespace.</summary>
public delegate Socket BgpSocketFactory(AddressFamily family);
