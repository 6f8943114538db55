namespace BareLb.Layer2;

/// <summary>Which of an interface's two sockets: ARP requests, or IPv6 Neighbor Solicitations.</summary>
public enum FrameKind
{
    Arp,
    Ndp,
}

/// <summary>Called on the channel's receive thread for every frame that passed its filter. Must not block.</summary>
internal delegate void FrameHandler(ReadOnlySpan<byte> frame, IFrameChannel channel);

/// <summary>A running receive loop on one interface for one <see cref="FrameKind"/>, and the way out for frames of that kind.</summary>
internal interface IFrameChannel : IDisposable
{
    /// <summary>Sends a whole Ethernet frame out of the interface; false when the kernel refused it.</summary>
    bool Send(ReadOnlySpan<byte> frame);
}

internal interface IFrameChannelFactory
{
    /// <summary>Opens the socket and starts its receive loop; throws <see cref="IOException"/> when the socket cannot be set up.</summary>
    IFrameChannel Open(LinkInfo link, FrameKind kind, FrameHandler handler);
}

/// <summary>The interface list, and a signal when it may have changed.</summary>
internal interface ILinkMonitor : IDisposable
{
    IReadOnlyList<LinkInfo> Links { get; }

    /// <summary>Raised on the monitor's thread after <see cref="Links"/> changed.</summary>
    event Action? Changed;

    /// <summary>Lists the links once (so <see cref="Links"/> is filled on return) and starts watching.</summary>
    void Start();
}

/// <summary>Solicited-node multicast membership on an interface, so that the NIC and MLD-snooping switches deliver solicitations.</summary>
internal interface IMulticastMembership : IDisposable
{
    /// <summary>Sets up what a first join needs (a socket), so that the join at takeover is quick.</summary>
    void Prepare();

    /// <summary>Joins (sending an MLD report); false, logged by the caller, when the kernel refused.</summary>
    bool Join(int interfaceIndex, UInt128 group);

    void Leave(int interfaceIndex, UInt128 group);
}
