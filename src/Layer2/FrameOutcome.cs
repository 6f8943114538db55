namespace BareLb.Layer2;

/// <summary>
/// What the responder did with one received frame: answered it, ignored a well-formed frame that is not ours to
/// answer, or rejected it as malformed (one value per rule, so operators can see which rule a sender breaks).
/// </summary>
public enum FrameOutcome : byte
{
    Answered = 0,

    // Well-formed, not ours to answer.
    NotOwned,
    NotARequest,
    /// <summary>A gratuitous ARP or ARP probe announcing an address (sender IP equals target IP): nothing to answer.</summary>
    Announcement,
    /// <summary>A frame sent from our own MAC, e.g. echoed back by a misbehaving switch.</summary>
    FromSelf,
    /// <summary>Neither ARP nor an ICMPv6 message directly after the IPv6 header (extension headers are not followed).</summary>
    UnsupportedProtocol,

    // Malformed.
    EthernetTruncated,
    ArpTruncated,
    ArpHardwareType,
    ArpProtocolType,
    ArpAddressLength,
    ArpOpcode,
    Ipv6Truncated,
    Ipv6Version,
    Ipv6SourceMulticast,
    NdpHopLimit,
    NdpCode,
    NdpTooShort,
    NdpChecksum,
    NdpTargetMulticast,
    NdpOptionLengthZero,
    NdpOptionTruncated,
    NdpLinkLayerOptionLength,
    NdpDadDestination,
    NdpDadSourceLinkLayerOption,
}

public static class FrameOutcomes
{
    public const FrameOutcome FirstMalformed = FrameOutcome.EthernetTruncated;

    /// <summary>Number of <see cref="FrameOutcome"/> values; counters index arrays by the enum.</summary>
    public static readonly int Count = Enum.GetValues<FrameOutcome>().Length;

    public static bool IsMalformed(this FrameOutcome outcome) => outcome >= FirstMalformed;
}
