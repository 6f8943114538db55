using System.Diagnostics;
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
            return Answer(buffer, total);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            ct.ThrowIfCancellationRequested();
            return null;
        }
    }

    /// <summary>
    /// The same GET with blocking calls, for a thread of its own: a measurement on the thread pool waits for pool
    /// threads and timer callbacks as well, and on two busy cores that added hundreds of milliseconds to some outages.
    /// </summary>
    public static string? Get(NamespaceSockets sockets, IPAddress address, int port, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        int Remaining() => (int)Math.Max(1, (timeout - Stopwatch.GetElapsedTime(started)).TotalMilliseconds);
        using var socket = sockets.CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Blocking = false;
            try
            {
                socket.Connect(new IPEndPoint(address, port));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
            }
            if (!socket.Poll(TimeSpan.FromMilliseconds(Remaining()), SelectMode.SelectWrite) ||
                (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)! != 0)
            {
                return null;
            }
            socket.Blocking = true;
            var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            socket.SendTimeout = Remaining();
            socket.Send(Encoding.ASCII.GetBytes($"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n"));
            var buffer = new byte[4096];
            var total = 0;
            while (true)
            {
                socket.ReceiveTimeout = Remaining();
                var read = socket.Receive(buffer, total, buffer.Length - total, SocketFlags.None);
                if (read == 0 || (total += read) == buffer.Length || Stopwatch.GetElapsedTime(started) > timeout)
                {
                    break;
                }
            }
            return Answer(buffer, total);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static string? Answer(byte[] buffer, int length)
    {
        var text = Encoding.ASCII.GetString(buffer, 0, length);
        var body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return text.StartsWith("HTTP/1.", StringComparison.Ordinal) && body >= 0 ? text[(body + 4)..].Trim() : null;
    }
}
