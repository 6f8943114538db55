using System.Net;
using BareLb.Allocator;

namespace BareLb.Api.Config;

public enum DynamicAsnMode
{
    /// <summary>The peer's AS must equal the local one (iBGP).</summary>
    Internal,

    /// <summary>The peer's AS must differ from the local one (eBGP).</summary>
    External,
}

public sealed record SecretKeyReference(string Namespace, string Name);

/// <summary>A validated BGPPeer with MetalLB's defaults applied.</summary>
public sealed record BgpPeerConfig
{
    public const ushort DefaultPort = 179;

    public required string Name { get; init; }
    public required uint MyAsn { get; init; }
    /// <summary>Null when <see cref="DynamicAsn"/> is set.</summary>
    public uint? PeerAsn { get; init; }
    public DynamicAsnMode? DynamicAsn { get; init; }
    /// <summary>Null for an unnumbered session over <see cref="Interface"/>.</summary>
    public IPAddress? Address { get; init; }
    public string? Interface { get; init; }
    public IPAddress? SourceAddress { get; init; }
    public ushort Port { get; init; } = DefaultPort;
    /// <summary>Whole seconds; null when neither holdTime nor keepaliveTime was set (the speaker's default applies).</summary>
    public TimeSpan? HoldTime { get; init; }
    public TimeSpan? KeepaliveTime { get; init; }
    public TimeSpan? ConnectTime { get; init; }
    public IPAddress? RouterId { get; init; }
    /// <summary>Empty means every node.</summary>
    public IReadOnlyList<LabelMatcher> NodeSelectors { get; init; } = [];
    public string? Password { get; init; }
    /// <summary>Resolved by the speaker: a kubernetes.io/basic-auth Secret's "password" key.</summary>
    public SecretKeyReference? PasswordSecret { get; init; }
    public string? BfdProfile { get; init; }
    public bool EnableGracefulRestart { get; init; }
    public bool EbgpMultiHop { get; init; }
    public string? Vrf { get; init; }
    public bool DisableMP { get; init; }
    public bool DualStackAddressFamily { get; init; }

    /// <summary>True when the session is iBGP: same AS on both ends, or dynamicASN internal.</summary>
    public bool IsInternal => DynamicAsn == DynamicAsnMode.Internal || PeerAsn == MyAsn;

    public bool SelectsNode(IReadOnlyDictionary<string, string> nodeLabels) => FieldLists.AnyMatches(NodeSelectors, nodeLabels);
}
