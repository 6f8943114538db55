using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BareLb.Lab;

/// <summary>The stand-in for a Service's pods on one node: answers every HTTP request with the node's name.</summary>
public static class HttpBackend
{
    public static async Task RunAsync(string name, int port, CancellationToken ct)
    {
        using var listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        listener.Listen(512);
        Console.WriteLine($"backend {name}: listening on port {port}");
        var response = Encoding.ASCII.GetBytes(
            $"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {name.Length + 1}\r\nConnection: close\r\n\r\n{name}\n");
        while (!ct.IsCancellationRequested)
        {
            var connection = await listener.AcceptAsync(ct).ConfigureAwait(false);
            _ = AnswerAsync(connection, response, ct);
        }
    }

    private static async Task AnswerAsync(Socket connection, byte[] response, CancellationToken ct)
    {
        using (connection)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var buffer = new byte[2048];
                var seen = 0;
                // Read the request head (up to its blank line), then answer and close.
                while (seen < buffer.Length)
                {
                    var read = await connection.ReceiveAsync(buffer.AsMemory(seen), timeout.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }
                    seen += read;
                    if (buffer.AsSpan(0, seen).IndexOf("\r\n\r\n"u8) >= 0)
                    {
                        break;
                    }
                }
                await connection.SendAsync(response, timeout.Token).ConfigureAwait(false);
                connection.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
            }
        }
    }
}
