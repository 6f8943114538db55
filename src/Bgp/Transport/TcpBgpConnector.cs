using System.Net;
using System.Net.Sockets;

namespace BareLb.Bgp.Transport;

/// <summary>
/// Outbound TCP to the peer: MD5 key, TTL and traffic class set before the SYN, bound to the source address when
/// one is configured, connect bounded by the caller's token (the state machine's connect-retry deadline).
/// </summary>
internal sealed class TcpBgpConnector(BgpSessionOptions options, BgpSocketFactory? socketFactory) : IBgpConnector
{
    public async Task<BgpConnection> ConnectAsync(CancellationToken ct)
    {
        var family = options.PeerAddress.AddressFamily;
        var socket = socketFactory?.Invoke(family) ?? new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            TcpSocketOptions.Apply(socket, options);
            if (options.SourceAddress is { } source)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }
            await socket.ConnectAsync(options.PeerEndPoint, ct).ConfigureAwait(false);
            return new BgpConnection(new NetworkStream(socket, ownsSocket: true), socket.LocalEndPoint as IPEndPoint, socket.RemoteEndPoint as IPEndPoint, socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
