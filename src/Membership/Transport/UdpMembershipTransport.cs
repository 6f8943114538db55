using System.Net;
using System.Net.Sockets;

namespace BareLb.Membership.Transport;

/// <summary>A UDP socket bound to the membership port. Binding IPv6Any makes it dual-stack (IPv4 peers too).</summary>
public sealed class UdpMembershipTransport : IMembershipTransport
{
    private readonly Socket _socket;

    public UdpMembershipTransport(IPAddress bindAddress, int port)
    {
        ArgumentNullException.ThrowIfNull(bindAddress);
        _socket = new Socket(bindAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (bindAddress.AddressFamily == AddressFamily.InterNetworkV6 && bindAddress.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }
            _socket.Bind(new IPEndPoint(bindAddress, port));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to)
    {
        try
        {
            return _socket.SendTo(datagram, SocketFlags.None, to) == datagram.Length;
        }
        catch (SocketException)
        {
            // Unreachable network, full buffer, a peer's address of the other family on a single-stack socket:
            // a lost datagram, which the protocol is built to survive.
            return false;
        }
    }

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return await _socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize or SocketError.ConnectionRefused)
            {
                // An ICMP error for an earlier send, or a datagram larger than any we send: not ours to stop on.
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
