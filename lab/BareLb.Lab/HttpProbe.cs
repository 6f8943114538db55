using System.Net;
using System.Net.Sockets;
using System.Text;
using BareLb.NetTestSupport;

namespace BareLb.Lab;

/// <summary>
/// One HTTP/1.0 GET on a fresh TCP connection from inside a namespace, as curl does; the lab's backends answer with
/// their node's name. A new connection each time, so a failover is seen as soon as the address answers again.
/// </summary>
public static class HttpProbe
{
    public static async Task<string?> GetAsync(NamespaceSockets sockets, IPAddress address, int port, TimeSpan timeout, CancellationToken ct)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(timeout);
        using var socket = sockets.CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), bound.Token).ConfigureAwait(false);
            var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n"), bound.Token).ConfigureAwait(false);
            var buffer = new byte[4096];
            var total = 0;
            int read;
            while ((read = await socket.ReceiveAsync(buffer.AsMemory(total), bound.Token).ConfigureAwait(false)) > 0 && total + read < buffer.Length)
            {
                total += read;
            }
            var text = Encoding.ASCII.GetString(buffer, 0, total);
            var body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            return text.StartsWith("HTTP/1.", StringComparison.Ordinal) && body >= 0 ? text[(body + 4)..].Trim() : null;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            ct.ThrowIfCancellationRequested();
            return null;
        }
    }
}
