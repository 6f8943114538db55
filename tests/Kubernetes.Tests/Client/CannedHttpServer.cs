using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace BareLb.Kubernetes.Tests.Client;

internal sealed record RecordedRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.GetValueOrDefault(name);
}

/// <summary>
/// A loopback HTTP/1.1 server (optionally TLS) whose answers the test scripts byte for byte. Only for what no API
/// server produces: a proxy's non-JSON error page, a body cut short, a garbled watch line, a server that never
/// answers, a TLS certificate issued for another name. Everything an API server does say comes from the
/// in-memory API server instead (see TestCluster), so that there is one fake of the API, not two.
/// </summary>
internal sealed class CannedHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<RecordedRequest, Stream, CancellationToken, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentBag<Task> _connections = [];

    private readonly X509Certificate2? _certificate;

    /// <param name="certificate">Serve HTTPS with this certificate (and its key); null for plain HTTP.</param>
    public CannedHttpServer(Func<RecordedRequest, Stream, CancellationToken, Task> handler, X509Certificate2? certificate = null)
    {
        _handler = handler;
        _certificate = certificate;
        _listener.Start();
        BaseAddress = new Uri($"{(certificate is null ? "http" : "https")}://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Answers every request with the same JSON.</summary>
    public CannedHttpServer(int status, string json) : this((_, stream, ct) => WriteJsonAsync(stream, status, json, ct)) { }

    public Uri BaseAddress { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public static async Task WriteJsonAsync(Stream stream, int status, string body, CancellationToken ct, string contentType = "application/json")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\nContent-Type: {contentType}\r\nContent-Length: {bytes.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
        await stream.WriteAsync(bytes, ct);
        await stream.FlushAsync(ct);
    }

    /// <summary>Starts a body that runs until the connection closes, as a watch does.</summary>
    public static async Task WriteStreamStartAsync(Stream stream, CancellationToken ct)
    {
        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"u8.ToArray(), ct);
        await stream.FlushAsync(ct);
    }

    public static async Task WriteTextAsync(Stream stream, string text, CancellationToken ct)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await stream.FlushAsync(ct);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        404 => "Not Found",
        409 => "Conflict",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Status",
    };

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            Stream stream = client.GetStream();
            var pending = new List<byte>();
            var buffer = new byte[8192];
            try
            {
                if (_certificate is not null)
                {
                    var tls = new SslStream(stream);
                    stream = tls;
                    await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificate = _certificate,
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                    }, _stop.Token);
                }
                while (!_stop.IsCancellationRequested)
                {
                    int headerEnd;
                    while ((headerEnd = IndexOfHeaderEnd(pending)) < 0)
                    {
                        var n = await stream.ReadAsync(buffer, _stop.Token);
                        if (n == 0)
                        {
                            return;
                        }
                        pending.AddRange(buffer.AsSpan(0, n));
                    }
                    var head = Encoding.ASCII.GetString(pending.GetRange(0, headerEnd).ToArray()).Split("\r\n");
                    pending.RemoveRange(0, headerEnd + 4);
                    var requestLine = head[0].Split(' ');
                    var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    foreach (var line in head.Skip(1))
                    {
                        var colon = line.IndexOf(':', StringComparison.Ordinal);
                        headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }
                    var length = headers.TryGetValue("Content-Length", out var lengthText) ? int.Parse(lengthText, System.Globalization.CultureInfo.InvariantCulture) : 0;
                    while (pending.Count < length)
                    {
                        var n = await stream.ReadAsync(buffer, _stop.Token);
                        if (n == 0)
                        {
                            return;
                        }
                        pending.AddRange(buffer.AsSpan(0, n));
                    }
                    var body = pending.GetRange(0, length).ToArray();
                    pending.RemoveRange(0, length);

                    var request = new RecordedRequest(requestLine[0], requestLine[1], headers, body);
                    Requests.Enqueue(request);
                    await _handler(request, stream, _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or AuthenticationException)
            {
                // The client went away, refused our certificate, or the test is over.
            }
            finally
            {
                await stream.DisposeAsync();
            }
        }
    }

    private static int IndexOfHeaderEnd(List<byte> data)
    {
        for (var i = 0; i + 3 < data.Count; i++)
        {
            if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        await Task.WhenAll(_connections);
        _stop.Dispose();
    }
}
