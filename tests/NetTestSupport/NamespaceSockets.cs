using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace BareLb.NetTestSupport;

/// <summary>
/// Creates sockets inside a network namespace from a process that lives outside it: a dedicated thread enters the
/// namespace (setns), and every socket is created on that thread. A socket belongs to the namespace it was created in
/// for its whole life, so connections made through <see cref="ConnectCallback"/> reach only the test's network and
/// the machine's own namespace never joins it. Needs root (CAP_SYS_ADMIN), as every namespace test does.
/// </summary>
public sealed partial class NamespaceSockets : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NamespaceSockets(string netns)
    {
        Namespace = netns;
        _thread = new Thread(() => Run(netns)) { IsBackground = true, Name = $"netns {netns}" };
        _thread.Start();
        _entered.Task.GetAwaiter().GetResult();
    }

    public string Namespace { get; }

    /// <summary>For <c>SocketsHttpHandler.ConnectCallback</c>: TCP connections from inside the namespace.</summary>
    public Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback => ConnectAsync;

    public Socket CreateSocket(AddressFamily family, SocketType type, ProtocolType protocol)
    {
        var created = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                created.SetResult(new Socket(family, type, protocol));
            }
            catch (Exception e)
            {
                created.SetException(e);
            }
        });
        return created.Task.GetAwaiter().GetResult();
    }

    public void Dispose() => _work.CompleteAdding();

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        if (!IPAddress.TryParse(host, out var address))
        {
            throw new HttpRequestException($"{Namespace}: only IP literals are reachable in a test namespace, not \"{host}\"");
        }
        var socket = CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Run(string netns)
    {
        try
        {
            using var handle = File.OpenHandle($"/var/run/netns/{netns}", FileMode.Open, FileAccess.Read);
            if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
            {
                throw new InvalidOperationException($"setns into {netns} failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        catch (Exception e)
        {
            _entered.SetException(e);
            return;
        }
        _entered.SetResult();
        foreach (var item in _work.GetConsumingEnumerable())
        {
            item();
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
