namespace BareLb.Layer2.Tests;

internal sealed class FakeLinkMonitor(params LinkInfo[] links) : ILinkMonitor
{
    private IReadOnlyList<LinkInfo> _links = links;

    public IReadOnlyList<LinkInfo> Links => _links;

    public bool Started { get; private set; }

    public bool Disposed { get; private set; }

    public event Action? Changed;

    public void Start() => Started = true;

    public void Set(params LinkInfo[] links)
    {
        _links = links;
        Changed?.Invoke();
    }

    public void Dispose() => Disposed = true;
}

internal sealed record SentFrame(string Interface, FrameKind Kind, TimeSpan At, byte[] Frame);

/// <summary>Channels that record what is sent and deliver frames synchronously; opening can be made to fail per interface.</summary>
internal sealed class FakeChannels(ManualClock clock) : IFrameChannelFactory
{
    private readonly List<FakeChannel> _open = [];

    public List<SentFrame> Sent { get; } = [];

    public HashSet<string> FailingInterfaces { get; } = [];

    public IReadOnlyList<FakeChannel> OpenChannels => _open.Where(c => !c.Disposed).ToList();

    public int Opened { get; private set; }

    public IFrameChannel Open(LinkInfo link, FrameKind kind, FrameHandler handler)
    {
        if (FailingInterfaces.Contains(link.Name))
        {
            throw new IOException($"cannot open {link.Name}");
        }
        var channel = new FakeChannel(this, link, kind, handler);
        _open.Add(channel);
        Opened++;
        return channel;
    }

    public FakeChannel Get(string name, FrameKind kind) => OpenChannels.Single(c => c.Link.Name == name && c.Kind == kind);

    internal sealed class FakeChannel(FakeChannels owner, LinkInfo link, FrameKind kind, FrameHandler handler) : IFrameChannel
    {
        public LinkInfo Link { get; } = link;

        public FrameKind Kind { get; } = kind;

        public bool Disposed { get; private set; }

        /// <summary>A frame from the wire; also after a close began, as a real receive thread may still hand one over.</summary>
        public void Deliver(byte[] frame) => handler(frame, this);

        public bool Send(ReadOnlySpan<byte> frame)
        {
            Assert.False(Disposed, "send on a closed channel");
            owner.Sent.Add(new SentFrame(Link.Name, Kind, owner._clock.Now, frame.ToArray()));
            return true;
        }

        public void Dispose() => Disposed = true;
    }

    private readonly ManualClock _clock = clock;
}

/// <summary>Checks that groups are joined once and left only when joined.</summary>
internal sealed class FakeMulticast : IMulticastMembership
{
    public HashSet<(int Interface, UInt128 Group)> Joined { get; } = [];

    public int Joins { get; private set; }

    public int Leaves { get; private set; }

    public void Prepare()
    {
    }

    public bool Join(int interfaceIndex, UInt128 group)
    {
        Assert.True(Joined.Add((interfaceIndex, group)), "joined twice");
        Joins++;
        return true;
    }

    public void Leave(int interfaceIndex, UInt128 group)
    {
        Assert.True(Joined.Remove((interfaceIndex, group)), "left a group that was not joined");
        Leaves++;
    }

    public void Dispose()
    {
    }
}
