using System.Buffers;
using System.Net;
using BareLb.Bgp.Transport;
using BareLb.Bgp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Bgp;

/// <summary>
/// One BGP peer: the state machine plus its connections. Every input (bytes read, connect result, timer, new
/// routes, stop) enters the state machine under one lock, so it sees one event at a time; what it sends is queued
/// per connection and written by that connection's writer. The timer is a single <see cref="ITimer"/> re-armed to
/// the state machine's next deadline after every input.
/// </summary>
public sealed partial class BgpSession : IAsyncDisposable
{
    private const int SendQueueLimit = 64 * 1024;
    private const int ReceiveBufferSize = 64 * 1024;
    private static readonly TimeSpan CloseFlushTimeout = TimeSpan.FromSeconds(2);

    private readonly object _gate = new();
    private readonly BgpSessionStateMachine _machine;
    private readonly IBgpConnector _connector;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Output _output;
    private readonly ITimer _timer;
    private readonly Dictionary<int, Link> _links = [];
    private readonly Dictionary<int, CancellationTokenSource> _connecting = [];
    private readonly List<(BgpSessionState State, TaskCompletionSource Done)> _waiters = [];
    private readonly List<Task> _linkTasks = [];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _armedDeadline = long.MinValue;
    private bool _disposed;

    public BgpSession(BgpSessionOptions options, ILogger<BgpSession>? logger = null, TimeProvider? time = null, BgpSocketFactory? socketFactory = null)
        : this(options, new TcpBgpConnector(options, socketFactory), logger, time, null)
    {
    }

    internal BgpSession(BgpSessionOptions options, IBgpConnector connector, ILogger? logger, TimeProvider? time, Random? random)
    {
        Options = options;
        _connector = connector;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _output = new Output(this);
        _machine = new BgpSessionStateMachine(options, _time, random ?? new Random(), _output);
        _machine.StateChanged += OnStateChanged;
        _machine.Notice += text => LogNotice(_logger, options.PeerAddress, text);
        _timer = _time.CreateTimer(static s => ((BgpSession)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public BgpSessionOptions Options { get; }

    public BgpSessionState State
    {
        get
        {
            lock (_gate)
            {
                return _machine.State;
            }
        }
    }

    /// <summary>Why the session last failed (connect error, NOTIFICATION sent or received, hold timer); null once Established.</summary>
    public string? LastError
    {
        get
        {
            lock (_gate)
            {
                return _machine.LastError;
            }
        }
    }

    public BgpSessionCounters Counters
    {
        get
        {
            lock (_gate)
            {
                return _machine.Counters;
            }
        }
    }

    /// <summary>What the OPENs agreed on, while Established.</summary>
    public NegotiatedSession? Negotiated
    {
        get
        {
            lock (_gate)
            {
                return _machine.Negotiated;
            }
        }
    }

    /// <summary>Families for which the peer has sent End-of-RIB on the current session.</summary>
    public IReadOnlyCollection<AfiSafi> PeerEndOfRib
    {
        get
        {
            lock (_gate)
            {
                return _machine.PeerEndOfRib.ToArray();
            }
        }
    }

    /// <summary>
    /// Completes when the session is disposed, and fails if the session hit an internal error it cannot recover from
    /// (a bug, not a network or protocol failure, which it handles itself). A host should stop when it fails, so the
    /// process restarts clean instead of limping.
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>Starts connecting (unless <see cref="BgpSessionOptions.Passive"/>) and keeps the session up until stopped.</summary>
    public Task StartAsync(CancellationToken ct = default)
    {
        Run(m => m.Start());
        return Task.CompletedTask;
    }

    /// <summary>
    /// The complete set of routes the peer should have. Only the difference to what it has is sent, now if the
    /// session is Established, else in full (then End-of-RIB) when it comes up. Throws on a duplicate prefix.
    /// </summary>
    public void SetRoutes(IReadOnlyCollection<BgpRoute> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        Run(m => m.SetRoutes(routes));
        lock (_gate)
        {
            DesiredRoutes = routes;
        }
    }

    /// <summary>The last set given to <see cref="SetRoutes"/>.</summary>
    public IReadOnlyCollection<BgpRoute> DesiredRoutes { get; private set; } = [];

    /// <summary>Stops the session (see <see cref="BgpStopMode"/>) and waits, bounded, for the connections to flush and close.</summary>
    public Task StopAsync(BgpStopMode mode = BgpStopMode.Shutdown, CancellationToken ct = default) =>
        StopAsync(mode, CeaseSubcode.AdministrativeShutdown, ct);

    /// <summary>Stops with a specific Cease subcode (peer de-configured, other configuration change).</summary>
    internal async Task StopAsync(BgpStopMode mode, byte ceaseSubcode, CancellationToken ct)
    {
        Run(m => m.Stop(ceaseSubcode, silent: mode == BgpStopMode.Restart && m.GracefulRestartNegotiated));
        Task[] tasks;
        lock (_gate)
        {
            tasks = [.. _linkTasks];
        }
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(CloseFlushTimeout + TimeSpan.FromSeconds(1));
        try
        {
            await Task.WhenAll(tasks).WaitAsync(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // A writer stuck on a peer that stopped reading; its stream is closed by then anyway.
        }
    }

    /// <summary>Completes when the session is in <paramref name="state"/> (at once if it already is).</summary>
    public Task WaitForStateAsync(BgpSessionState state, CancellationToken ct = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_machine.State == state)
            {
                return Task.CompletedTask;
            }
            _waiters.Add((state, done));
        }
        if (ct.CanBeCanceled)
        {
            // A cancelled wait leaves nothing behind in the waiter list.
            var registration = ct.Register(() =>
            {
                lock (_gate)
                {
                    _waiters.Remove((state, done));
                }
                done.TrySetCanceled(ct);
            });
            _ = done.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return done.Task;
    }

    /// <summary>Hands the session a connection the peer opened to us (from <see cref="BgpSpeaker"/>'s listener).</summary>
    internal bool AcceptInbound(BgpConnection connection)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                _ = connection.DisposeAsync().AsTask();
                return false;
            }
            var id = _machine.AllocateConnectionId();
            var link = new Link(id, connection);
            _links[id] = link;
            StartLink(link);
            var accepted = _machine.OnInboundConnection(id, connection.Local, connection.Remote);
            Rearm();
            return accepted;
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
        }
        await StopAsync(BgpStopMode.Shutdown, CancellationToken.None).ConfigureAwait(false);
        lock (_gate)
        {
            _disposed = true;
            foreach (var cts in _connecting.Values)
            {
                cts.Cancel();
            }
            foreach (var link in _links.Values)
            {
                link.Abort();
            }
        }
        _timer.Dispose();
        _completion.TrySetResult();
    }

    private void Fault(Exception e)
    {
        LogInternalError(_logger, Options.PeerAddress, e);
        lock (_gate)
        {
            _disposed = true;
            foreach (var cts in _connecting.Values)
            {
                cts.Cancel();
            }
            foreach (var link in _links.Values)
            {
                link.Abort();
            }
        }
        _completion.TrySetException(e);
    }

    private void Run(Action<BgpSessionStateMachine> input)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            input(_machine);
            Rearm();
        }
    }

    private void OnTimer()
    {
        try
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                _armedDeadline = long.MinValue;
                _machine.OnTimer();
                Rearm();
            }
        }
        catch (Exception e)
        {
            Fault(e);
        }
    }

    private void Rearm()
    {
        var deadline = _machine.NextDeadline;
        if (deadline == _armedDeadline)
        {
            return;
        }
        _armedDeadline = deadline;
        if (deadline == long.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var now = _time.GetTimestamp();
        var due = deadline <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, deadline);
        // A due time of zero fires on another thread at once; keep a floor so the timer cannot spin.
        _timer.Change(due < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : due, Timeout.InfiniteTimeSpan);
    }

    private void OnStateChanged(BgpSessionState from, BgpSessionState to)
    {
        LogStateChanged(_logger, Options.PeerAddress, from, to, to == BgpSessionState.Established ? "" : _machine.LastError);
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].State == to)
            {
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    private void BeginConnect(int id)
    {
        var cts = new CancellationTokenSource();
        _connecting[id] = cts;
        var task = Task.Run(async () =>
        {
            try
            {
                await CompleteConnectAsync(id, cts).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Fault(e);
            }
        });
        _linkTasks.Add(task);
        PruneTasks();
    }

    private async Task CompleteConnectAsync(int id, CancellationTokenSource cts)
    {
        {
            BgpConnection? connection = null;
            string? failure = null;
            try
            {
                connection = await _connector.ConnectAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                failure = "cancelled";
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidOperationException or ObjectDisposedException)
            {
                failure = e.Message;
            }
            lock (_gate)
            {
                _connecting.Remove(id);
                if (connection is null)
                {
                    if (!_disposed && !cts.IsCancellationRequested)
                    {
                        LogConnectFailed(_logger, Options.PeerAddress, failure);
                        _machine.OnConnectionClosed(id, failure ?? "failed");
                        Rearm();
                    }
                    cts.Dispose();
                    return;
                }
                cts.Dispose();
                if (_disposed)
                {
                    _ = connection.DisposeAsync().AsTask();
                    return;
                }
                var link = new Link(id, connection);
                _links[id] = link;
                StartLink(link);
                _machine.OnOutboundConnected(id, connection.Local, connection.Remote);
                Rearm();
            }
        }
    }

    private void StartLink(Link link)
    {
        _linkTasks.Add(Task.Run(() => Guard(ReadLoopAsync(link))));
        _linkTasks.Add(Task.Run(() => Guard(WriteLoopAsync(link))));
        PruneTasks();
    }

    private async Task Guard(Task loop)
    {
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Fault(e);
        }
    }

    private void PruneTasks() => _linkTasks.RemoveAll(t => t.IsCompleted);

    private async Task ReadLoopAsync(Link link)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        var start = 0;
        var end = 0;
        string reason = "connection closed by the peer";
        try
        {
            while (true)
            {
                if (start > 0 && (end - start < BgpHeader.MaxMessageLength || end == buffer.Length))
                {
                    // Self-compacting: move the partial message to the front before the next read.
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                var n = await link.Connection.Stream.ReadAsync(buffer.AsMemory(end), link.Stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                end += n;
                lock (_gate)
                {
                    if (_disposed || link.Closed)
                    {
                        return;
                    }
                    while (true)
                    {
                        var status = BgpHeader.TryReadFrame(buffer.AsSpan(start, end - start), out var length, out _, out var error);
                        if (status == BgpFrameStatus.Incomplete)
                        {
                            break;
                        }
                        if (status == BgpFrameStatus.Invalid)
                        {
                            _machine.OnFramingError(link.Id, error);
                            Rearm();
                            return;
                        }
                        _machine.OnMessage(link.Id, buffer.AsSpan(start, length));
                        start += length;
                        if (link.Closed)
                        {
                            Rearm();
                            return;
                        }
                    }
                    Rearm();
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            reason = e.Message;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        lock (_gate)
        {
            if (!_disposed && !link.Closed)
            {
                _machine.OnConnectionClosed(link.Id, reason);
                Rearm();
            }
        }
    }

    private async Task WriteLoopAsync(Link link)
    {
        var stream = link.Connection.Stream;
        try
        {
            while (true)
            {
                await link.Signal.WaitAsync(link.Stop.Token).ConfigureAwait(false);
                while (link.TryTake(out var chunk, out var length))
                {
                    try
                    {
                        await stream.WriteAsync(chunk.AsMemory(0, length), link.Stop.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(chunk);
                    }
                    if (link.Drained())
                    {
                        lock (_gate)
                        {
                            if (!_disposed && !link.Closed)
                            {
                                _machine.OnSendRoom();
                                Rearm();
                            }
                        }
                    }
                }
                await stream.FlushAsync(link.Stop.Token).ConfigureAwait(false);
                if (link.Closed && link.IsEmpty)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The reader reports the connection's end; a writer failing means the same.
        }
        finally
        {
            link.Stop.Cancel();
            await link.Connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "BGP peer {Peer}: {From} -> {To} {Reason}")]
    private static partial void LogStateChanged(ILogger logger, IPAddress peer, BgpSessionState from, BgpSessionState to, string? reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "BGP peer {Peer}: {Text}")]
    private static partial void LogNotice(ILogger logger, IPAddress peer, string text);

    [LoggerMessage(EventId = 4, Level = LogLevel.Critical, Message = "BGP peer {Peer}: internal error; the session has stopped")]
    private static partial void LogInternalError(ILogger logger, IPAddress peer, Exception error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "BGP peer {Peer}: connect failed: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, IPAddress peer, string? reason);

    /// <summary>The state machine's view of the transport; every call arrives with <c>_gate</c> held.</summary>
    private sealed class Output(BgpSession session) : IBgpSessionOutput
    {
        public void Connect(int connectionId) => session.BeginConnect(connectionId);

        public void Send(int connectionId, ReadOnlySpan<byte> message)
        {
            if (session._links.TryGetValue(connectionId, out var link))
            {
                link.Enqueue(message);
            }
        }

        public void Close(int connectionId)
        {
            if (session._connecting.Remove(connectionId, out var cts))
            {
                cts.Cancel();
            }
            if (session._links.Remove(connectionId, out var link))
            {
                link.Close();
            }
        }

        public int SendRoom(int connectionId) =>
            session._links.TryGetValue(connectionId, out var link) ? SendQueueLimit - link.QueuedBytes : 0;
    }

    /// <summary>One connection's queues and stop signal. Enqueue/Close run under the session lock; the writer takes without it.</summary>
    private sealed class Link(int id, BgpConnection connection)
    {
        private readonly Queue<(byte[] Chunk, int Length)> _queue = new();
        private readonly object _queueGate = new();
        private int _queued;
        private bool _wasFull;

        public int Id { get; } = id;
        public BgpConnection Connection { get; } = connection;
        public SemaphoreSlim Signal { get; } = new(0);
        public CancellationTokenSource Stop { get; } = new();
        public bool Closed { get; private set; }

        public int QueuedBytes
        {
            get
            {
                lock (_queueGate)
                {
                    return _queued;
                }
            }
        }

        public bool IsEmpty
        {
            get
            {
                lock (_queueGate)
                {
                    return _queue.Count == 0;
                }
            }
        }

        public void Enqueue(ReadOnlySpan<byte> message)
        {
            if (Closed)
            {
                return;
            }
            var chunk = ArrayPool<byte>.Shared.Rent(message.Length);
            message.CopyTo(chunk);
            lock (_queueGate)
            {
                _queue.Enqueue((chunk, message.Length));
                _queued += message.Length;
                if (_queued + BgpHeader.MaxMessageLength > SendQueueLimit)
                {
                    _wasFull = true;
                }
            }
            Signal.Release();
        }

        public bool TryTake(out byte[] chunk, out int length)
        {
            lock (_queueGate)
            {
                if (_queue.TryDequeue(out var item))
                {
                    (chunk, length) = item;
                    _queued -= length;
                    return true;
                }
            }
            chunk = [];
            length = 0;
            return false;
        }

        /// <summary>True once after the queue had filled up and has drained to half: time to generate more.</summary>
        public bool Drained()
        {
            lock (_queueGate)
            {
                if (_wasFull && _queued <= SendQueueLimit / 2)
                {
                    _wasFull = false;
                    return true;
                }
                return false;
            }
        }

        public void Close()
        {
            Closed = true;
            Signal.Release();
            // The writer flushes what is queued (a NOTIFICATION, typically) and then closes; bounded in case the
            // peer does not read.
            try
            {
                Stop.CancelAfter(CloseFlushTimeout);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Abort()
        {
            Closed = true;
            try
            {
                Stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
