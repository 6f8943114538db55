using System.Net;
using System.Net.Sockets;
using BareLb.Layer2.Arp;
using BareLb.Layer2.Linux;
using BareLb.Layer2.Ndp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Layer2;

/// <summary>
/// Makes this node answer ARP and NDP for the addresses it owns, on the interfaces allowed for each, and announce
/// them on takeover. The speaker calls <see cref="SetOwned"/> with the whole owned set whenever it changes; the
/// announcer opens, per interface in use, one ARP and one IPv6 packet socket with a receive thread each, and closes
/// them when the interface is no longer needed.
/// <para>
/// On ownership gained (address newly owned, or an interface newly allowed for it) the first gratuitous ARP or
/// unsolicited NA goes out inside <see cref="SetOwned"/>, before it returns; repeats follow the
/// <see cref="AnnouncementSchedule"/>. On ownership lost the interface's responder stops answering for the address
/// before <see cref="SetOwned"/> returns, and the solicited-node group is left. Interfaces that appear, change or go
/// away are followed through rtnetlink notifications; when an interface's carrier comes back, its addresses are
/// announced again.
/// </para>
/// </summary>
public sealed class Layer2Announcer : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly ILinkMonitor _linkMonitor;
    private readonly IFrameChannelFactory _channels;
    private readonly IMulticastMembership _multicast;
    private readonly InterfacePolicy _policy;
    private readonly AnnouncementQueue<(IPAddress Address, int Interface)> _queue;
    private readonly SolicitedNodeGroups _groups = new();
    private readonly Dictionary<int, InterfaceState> _interfaces = [];
    private readonly List<(IPAddress Address, int Interface)> _due = [];
    private readonly List<(int Interface, UInt128 Group)> _joins = [];
    private readonly List<Task> _closing = [];
    private readonly List<(string Interface, FrameKind Kind)> _opened = [];
    private readonly byte[] _announcement = new byte[NeighborResponder.MaxReplyLength];
    private readonly ITimer _timer;
    private readonly ILogger _logger;
    private IReadOnlyDictionary<IPAddress, OwnedAddress> _owned = new Dictionary<IPAddress, OwnedAddress>();
    private IReadOnlyList<AddressAnnouncement> _announcements = [];
    private bool _starting;
    private bool _started;
    private bool _stopped;

    public Layer2Announcer(Layer2Options? options = null, ILogger<Layer2Announcer>? logger = null, TimeProvider? time = null)
        : this(options, null, null, null, time, logger)
    {
    }

    internal Layer2Announcer(
        Layer2Options? options,
        ILinkMonitor? links,
        IFrameChannelFactory? channels,
        IMulticastMembership? multicast,
        TimeProvider? time,
        ILogger? logger)
    {
        options ??= new Layer2Options();
        time ??= TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        Counters = new Layer2Counters();
        _policy = new InterfacePolicy(options.ExcludedInterfaces);
        _queue = new(new AnnouncementSchedule(options.AnnouncementBurst, options.RefreshInterval), time);
        _linkMonitor = links ?? new RtnetlinkLinkMonitor(_logger);
        _channels = channels ?? new PacketChannelFactory(Counters, _logger);
        _multicast = multicast ?? new Ipv6MulticastMembership();
        _timer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public Layer2Counters Counters { get; }

    /// <summary>The current state per owned address, sorted by address.</summary>
    public IReadOnlyList<AddressAnnouncement> Announcements
    {
        get
        {
            lock (_gate)
            {
                return _announcements;
            }
        }
    }

    /// <summary>
    /// Raised, outside any lock, after <see cref="Announcements"/> changed, with the new list. Handlers run on the
    /// thread that caused the change and must not block; read <see cref="Announcements"/> for the latest.
    /// </summary>
    public event Action<IReadOnlyList<AddressAnnouncement>>? AnnouncementsChanged;

    /// <summary>Lists the interfaces, starts following their changes, and applies the owned set given so far.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_starting)
            {
                throw new InvalidOperationException("the announcer was started already");
            }
            _starting = true;
        }
        if (_linkMonitor is not DryRunEdges)
        {
            Warm();
        }
        _linkMonitor.Changed += OnLinksChanged;
        _linkMonitor.Start();
        IReadOnlyList<AddressAnnouncement>? changed;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            _started = true;
            changed = Reconcile();
            Log.Started(_logger, _linkMonitor.Links.Count, string.Join(",", _linkMonitor.Links.Where(l => _policy.Judge(l, _linkMonitor.Links, null) == LinkVerdict.Allowed).Select(l => l.Name)));
        }
        Publish(changed);
        return Task.CompletedTask;
    }

    /// <summary>Replaces the owned set. Takes effect before returning: new addresses are announced, released ones no longer answered.</summary>
    public void SetOwned(IReadOnlyCollection<OwnedAddress> owned)
    {
        ArgumentNullException.ThrowIfNull(owned);
        var map = new Dictionary<IPAddress, OwnedAddress>();
        foreach (var o in owned)
        {
            if (o.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"{o.Address} is neither IPv4 nor IPv6", nameof(owned));
            }
            var address = o.Address.IsIPv4MappedToIPv6 ? o.Address.MapToIPv4() : o.Address;
            map[address] = o with { Address = address };
        }
        IReadOnlyList<AddressAnnouncement>? changed;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            _owned = map;
            changed = _started ? Reconcile() : null;
        }
        Publish(changed);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task[] closing;
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
            _timer.Dispose();
            foreach (var state in _interfaces.Values.ToList())
            {
                TearDown(state);
            }
            _announcements = [];
            closing = [.. _closing];
        }
        _linkMonitor.Changed -= OnLinksChanged;
        _linkMonitor.Dispose();
        _multicast.Dispose();
        await Task.WhenAll(closing).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>
    /// Runs the takeover path once against edges that do nothing, so that its first real use, the moment ownership
    /// moves here, does not pay for JIT compilation and type initialization (measured in the namespace lab on a loaded
    /// machine: the first SetOwned took 110-190 ms cold and 17-45 ms after this; later ones about 2 ms).
    /// </summary>
    private void Warm()
    {
        var link = new LinkInfo(1, "warm0", MacAddress.Parse("02:00:00:00:00:01"), LinkFlags.Up | LinkFlags.LowerUp);
        var dryRun = new Layer2Announcer(null, new DryRunEdges(link), new DryRunEdges(link), new DryRunEdges(link), TimeProvider.System, null);
        dryRun.StartAsync().GetAwaiter().GetResult();
        dryRun.SetOwned([new OwnedAddress(IPAddress.Parse("198.51.100.1")), new OwnedAddress(IPAddress.Parse("2001:db8::1"))]);
        dryRun.SetOwned([]);
        dryRun.StopAsync().GetAwaiter().GetResult();
        _multicast.Prepare();
    }

    private void OnLinksChanged()
    {
        IReadOnlyList<AddressAnnouncement>? changed;
        lock (_gate)
        {
            // Before StartAsync's own reconcile there is nothing to do: that one reads the links as they are then.
            if (_stopped || !_started)
            {
                return;
            }
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.LinksChanged(_logger, string.Join(", ", _linkMonitor.Links));
            }
            changed = Reconcile();
        }
        Publish(changed);
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (!_stopped)
            {
                SendDue();
            }
        }
    }

    /// <summary>Brings sockets, responders, groups and schedules in line with the owned set and the links. Under the lock.</summary>
    private IReadOnlyList<AddressAnnouncement>? Reconcile()
    {
        var links = _linkMonitor.Links;
        var desired = new Dictionary<int, HashSet<IPAddress>>();
        var requestedBy = new Dictionary<IPAddress, IReadOnlyList<string>?>();
        foreach (var owned in _owned.Values)
        {
            requestedBy[owned.Address] = owned.Interfaces;
            foreach (var link in _policy.Allowed(links, owned.Interfaces))
            {
                if (!desired.TryGetValue(link.Index, out var set))
                {
                    desired[link.Index] = set = [];
                }
                set.Add(owned.Address);
            }
        }

        var byIndex = links.ToDictionary(l => l.Index);
        foreach (var state in _interfaces.Values.ToList())
        {
            if (!desired.ContainsKey(state.Link.Index) ||
                !byIndex.TryGetValue(state.Link.Index, out var now) ||
                now.Mac != state.Link.Mac || now.Name != state.Link.Name)
            {
                TearDown(state);
            }
        }

        foreach (var (index, addresses) in desired)
        {
            var link = byIndex[index];
            var carrierReturned = false;
            if (!_interfaces.TryGetValue(index, out var state))
            {
                state = new InterfaceState(link);
                _interfaces[index] = state;
            }
            else
            {
                carrierReturned = !state.Link.HasCarrier && link.HasCarrier;
                state.Link = link;
            }
            Update(state, addresses, carrierReturned);
        }

        // Announce first: the unsolicited NA and gratuitous ARP need no membership, and they are what moves the
        // neighbours. Joining (an MLD report per group) comes right after.
        SendDue();
        foreach (var (index, group) in _joins)
        {
            if (!_multicast.Join(index, group))
            {
                Log.JoinFailed(_logger, IpAddresses.FromIPv6(group).ToString(), byIndex[index].Name);
            }
        }
        _joins.Clear();
        // Logged after the announcements went out: a log line must never delay a takeover.
        foreach (var (name, kind) in _opened)
        {
            Log.ChannelOpened(_logger, name, kind);
        }
        _opened.Clear();

        var announcements = _owned.Values
            .OrderBy(o => o.Address.AddressFamily).ThenBy(o => o.Address.GetAddressBytes(), ByteOrder.Instance)
            .Select(o => new AddressAnnouncement(o.Address, AnnouncedOn(o.Address)))
            .ToList();
        if (announcements.SequenceEqual(_announcements))
        {
            return null;
        }
        var before = _announcements.ToDictionary(a => a.Address);
        foreach (var a in announcements)
        {
            if (before.TryGetValue(a.Address, out var old) && old.Equals(a))
            {
                continue;
            }
            if (a.NoAllowedInterface)
            {
                var requested = requestedBy[a.Address];
                Log.NoAllowedInterface(_logger, a.Address.ToString(), requested is { Count: > 0 } ? string.Join(",", requested) : "all");
            }
            else
            {
                Log.Announcing(_logger, a.Address.ToString(), string.Join(",", a.Interfaces));
            }
        }
        foreach (var gone in before.Keys.Where(k => !_owned.ContainsKey(k)))
        {
            Log.Released(_logger, gone.ToString());
        }
        _announcements = announcements;
        return announcements;
    }

    private void Update(InterfaceState state, HashSet<IPAddress> addresses, bool carrierReturned)
    {
        var removed = state.Addresses.Where(a => !addresses.Contains(a)).ToList();
        var added = addresses.Where(a => !state.Addresses.Contains(a)).ToList();

        // Stop answering released addresses first: the swap is atomic for the receive threads.
        state.Responder.Owned = OwnedSet.Create(addresses);
        foreach (var address in removed)
        {
            _queue.Stop((address, state.Link.Index));
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && _groups.Remove(state.Link.Index, IpAddresses.ToUInt128(address)) is { } group)
            {
                _multicast.Leave(state.Link.Index, group);
            }
        }
        state.Addresses = addresses;

        var hasV4 = addresses.Any(a => a.AddressFamily == AddressFamily.InterNetwork);
        var hasV6 = addresses.Any(a => a.AddressFamily == AddressFamily.InterNetworkV6);
        state.Arp = Ensure(state, FrameKind.Arp, state.Arp, hasV4);
        state.Ndp = Ensure(state, FrameKind.Ndp, state.Ndp, hasV6);

        foreach (var address in added)
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && _groups.Add(state.Link.Index, IpAddresses.ToUInt128(address)) is { } group)
            {
                _joins.Add((state.Link.Index, group));
            }
            _queue.Start((address, state.Link.Index));
        }
        if (carrierReturned)
        {
            foreach (var address in addresses)
            {
                _queue.Start((address, state.Link.Index));
            }
        }
    }

    private IFrameChannel? Ensure(InterfaceState state, FrameKind kind, IFrameChannel? channel, bool needed)
    {
        if (!needed)
        {
            if (channel is not null)
            {
                Close(channel, state.Link.Name, kind);
            }
            return null;
        }
        if (channel is not null)
        {
            return channel;
        }
        try
        {
            var opened = _channels.Open(state.Link, kind, Handler(state.Responder, kind));
            _opened.Add((state.Link.Name, kind));
            return opened;
        }
        catch (IOException e)
        {
            Log.ChannelFailed(_logger, state.Link.Name, kind, e);
            return null;
        }
    }

    /// <summary>
    /// Closes a channel without holding up the caller: its responder already answers for nothing, so what is left
    /// (waking the receive thread, joining it, closing the socket) can finish in the background. Stop waits for it.
    /// </summary>
    private void Close(IFrameChannel channel, string name, FrameKind kind)
    {
        var closing = Task.Run(() =>
        {
            channel.Dispose();
            Log.ChannelClosed(_logger, name, kind);
        });
        _closing.Add(closing);
        _closing.RemoveAll(t => t.IsCompleted);
    }

    /// <summary>Completes when every channel closed so far has finished closing.</summary>
    internal Task WhenClosed()
    {
        lock (_gate)
        {
            return Task.WhenAll(_closing);
        }
    }

    private FrameHandler Handler(NeighborResponder responder, FrameKind kind)
    {
        var reply = new byte[NeighborResponder.MaxReplyLength];
        var counters = Counters;
        return (frame, channel) =>
        {
            var outcome = responder.Respond(frame, reply, out var written);
            counters.Count(kind, outcome);
            if (outcome == FrameOutcome.Answered)
            {
                channel.Send(reply.AsSpan(0, written));
            }
        };
    }

    private void TearDown(InterfaceState state)
    {
        state.Responder.Owned = OwnedSet.Empty;
        foreach (var address in state.Addresses)
        {
            _queue.Stop((address, state.Link.Index));
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && _groups.Remove(state.Link.Index, IpAddresses.ToUInt128(address)) is { } group)
            {
                _multicast.Leave(state.Link.Index, group);
            }
        }
        state.Addresses = [];
        if (state.Arp is not null)
        {
            Close(state.Arp, state.Link.Name, FrameKind.Arp);
        }
        if (state.Ndp is not null)
        {
            Close(state.Ndp, state.Link.Name, FrameKind.Ndp);
        }
        state.Arp = null;
        state.Ndp = null;
        _interfaces.Remove(state.Link.Index);
    }

    /// <summary>Interfaces where the address is answered: allowed, and its family's socket is open.</summary>
    private IReadOnlyList<string> AnnouncedOn(IPAddress address)
    {
        var names = new List<string>();
        foreach (var state in _interfaces.Values)
        {
            var channel = address.AddressFamily == AddressFamily.InterNetwork ? state.Arp : state.Ndp;
            if (channel is not null && state.Addresses.Contains(address))
            {
                names.Add(state.Link.Name);
            }
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Sends every announcement now due and re-arms the timer for the next. Under the lock.</summary>
    private void SendDue()
    {
        _due.Clear();
        _queue.TakeDue(_due);
        foreach (var (address, index) in _due)
        {
            if (!_interfaces.TryGetValue(index, out var state))
            {
                continue;
            }
            var mac = state.Link.Mac;
            int written;
            IFrameChannel? channel;
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                ArpPacket.TryWriteGratuitous(_announcement, mac, IpAddresses.ToUInt32(address), out written);
                channel = state.Arp;
            }
            else
            {
                NeighborAdvertisement.TryWriteUnsolicited(_announcement, mac, IpAddresses.ToUInt128(address), out written);
                channel = state.Ndp;
            }
            if (channel is not null && channel.Send(_announcement.AsSpan(0, written)))
            {
                Counters.AnnouncementSent();
            }
        }
        _timer.Change(_queue.NextDue() ?? Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void Publish(IReadOnlyList<AddressAnnouncement>? changed)
    {
        if (changed is not null)
        {
            AnnouncementsChanged?.Invoke(changed);
        }
    }

    private sealed class InterfaceState(LinkInfo link)
    {
        public LinkInfo Link { get; set; } = link;

        public NeighborResponder Responder { get; } = new(link.Mac);

        public HashSet<IPAddress> Addresses { get; set; } = [];

        public IFrameChannel? Arp { get; set; }

        public IFrameChannel? Ndp { get; set; }
    }

    /// <summary>One link, channels that answer a request once, no membership: the edges of the warm-up run.</summary>
    private sealed class DryRunEdges(LinkInfo link) : ILinkMonitor, IFrameChannelFactory, IMulticastMembership, IFrameChannel
    {
        public IReadOnlyList<LinkInfo> Links { get; } = [link];

        public event Action? Changed
        {
            add { }
            remove { }
        }

        public void Start()
        {
        }

        public IFrameChannel Open(LinkInfo opened, FrameKind kind, FrameHandler handler)
        {
            var frame = new byte[NeighborResponder.MaxReplyLength];
            if (kind == FrameKind.Arp)
            {
                new ArpPacket { Operation = ArpPacket.OperationRequest, SenderHardware = MacAddress.Broadcast, SenderProtocol = 1, TargetProtocol = IpAddresses.ToUInt32(IPAddress.Parse("198.51.100.1")) }
                    .TryWriteFrame(frame, MacAddress.Broadcast, MacAddress.Broadcast, out var length);
                handler(frame.AsSpan(0, length), this);
            }
            else
            {
                var target = IpAddresses.ToUInt128(IPAddress.Parse("2001:db8::1"));
                new NeighborSolicitation { Source = 1, Destination = IpAddresses.SolicitedNode(target), Target = target, SourceLinkLayer = MacAddress.Broadcast }
                    .TryWriteFrame(frame, MacAddress.Broadcast, MacAddress.Broadcast, out var length);
                handler(frame.AsSpan(0, length), this);
            }
            return this;
        }

        public bool Send(ReadOnlySpan<byte> frame) => true;

        public void Prepare()
        {
        }

        public bool Join(int interfaceIndex, UInt128 group) => true;

        public void Leave(int interfaceIndex, UInt128 group)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
