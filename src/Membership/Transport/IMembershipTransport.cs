using System.Net;

namespace BareLb.Membership.Transport;

/// <summary>
/// Datagrams in and out. <see cref="UdpMembershipTransport"/> is the real one; tests use an in-memory network.
/// </summary>
public interface IMembershipTransport : IAsyncDisposable
{
    /// <summary>Sends one datagram without blocking; false when the OS refused it (no route, buffer full).</summary>
    bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to);

    /// <summary>Waits for the next datagram and copies it into <paramref name="buffer"/>; returns its length.</summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken ct);
}
