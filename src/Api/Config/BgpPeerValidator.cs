using System.Net;
using BareLb.Api.Models;

namespace BareLb.Api.Config;

/// <summary>MetalLB's BGPPeer rules (v1beta2 fields), applied by the controller in place of a webhook.</summary>
public static class BgpPeerValidator
{
    private const long MaxAsn = uint.MaxValue;
    private const long MaxPort = 16384;
    // The OPEN message carries the hold time in 16 bits of seconds (RFC 4271 §4.2).
    private static readonly TimeSpan MaxHoldTime = TimeSpan.FromSeconds(ushort.MaxValue);
    private static readonly TimeSpan MinHoldTime = TimeSpan.FromSeconds(3);
    // TCP_MD5SIG_MAXKEYLEN in Linux.
    private const int MaxPasswordBytes = 80;

    public static ValidationResult<BgpPeerConfig> Validate(BGPPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var errors = new List<ValidationError>();
        var name = peer.Metadata?.Name;
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(new("metadata.name", "must be set"));
        }

        var spec = peer.Spec;
        if (spec is null)
        {
            errors.Add(new("spec", "must be set"));
            return new ValidationResult<BgpPeerConfig>(null, errors);
        }

        var myAsn = ParseMyAsn(spec.MyASN, errors);
        var (peerAsn, dynamicAsn) = ParsePeerAsn(spec, errors);
        var (address, iface) = ParseEndpoint(spec, errors);
        var source = ParseSourceAddress(spec.SourceAddress, address, errors);
        var port = ParsePort(spec.PeerPort, errors);
        var (hold, keepalive) = ParseTimers(spec.HoldTime, spec.KeepaliveTime, errors);
        var connect = ParseConnectTime(spec.ConnectTime, errors);
        var routerId = ParseRouterId(spec.RouterID, errors);
        var nodes = FieldLists.Selectors(spec.NodeSelectors, "spec.nodeSelectors", errors);
        var secret = ParsePassword(spec, peer.Metadata?.NamespaceProperty, errors);

        var internalSession = dynamicAsn == DynamicAsnMode.Internal || (peerAsn is not null && peerAsn == myAsn);
        if (spec.EbgpMultiHop == true && internalSession)
        {
            errors.Add(new("spec.ebgpMultiHop", dynamicAsn == DynamicAsnMode.Internal
                ? "applies to eBGP only, but dynamicASN is internal"
                : $"applies to eBGP only, but peerASN equals myASN ({myAsn}), which makes this an iBGP session"));
        }

        if (!string.IsNullOrEmpty(spec.BfdProfile) && KubernetesNames.CheckDnsSubdomain(spec.BfdProfile) is { } bfdError)
        {
            errors.Add(new("spec.bfdProfile", bfdError));
        }

        if (spec.Vrf is not null && KubernetesNames.CheckInterfaceName(spec.Vrf) is { } vrfError)
        {
            errors.Add(new("spec.vrf", vrfError.Replace("interface name", "VRF name", StringComparison.Ordinal)));
        }

        return ValidationResult<BgpPeerConfig>.Of(errors, () => new BgpPeerConfig
        {
            Name = name!,
            MyAsn = myAsn,
            PeerAsn = peerAsn,
            DynamicAsn = dynamicAsn,
            Address = address,
            Interface = iface,
            SourceAddress = source,
            Port = port,
            HoldTime = hold,
            KeepaliveTime = keepalive,
            ConnectTime = connect,
            RouterId = routerId,
            NodeSelectors = nodes,
            Password = string.IsNullOrEmpty(spec.Password) ? null : spec.Password,
            PasswordSecret = secret,
            BfdProfile = string.IsNullOrEmpty(spec.BfdProfile) ? null : spec.BfdProfile,
            EnableGracefulRestart = spec.EnableGracefulRestart ?? false,
            EbgpMultiHop = spec.EbgpMultiHop ?? false,
            Vrf = string.IsNullOrEmpty(spec.Vrf) ? null : spec.Vrf,
            DisableMP = spec.DisableMP ?? false,
            DualStackAddressFamily = spec.DualStackAddressFamily ?? false,
        });
    }

    private static uint ParseMyAsn(long? value, List<ValidationError> errors)
    {
        switch (value)
        {
            case null or 0:
                errors.Add(new("spec.myASN", "must be set to an AS number from 1 to 4294967295"));
                return 0;
            case < 0 or > MaxAsn:
                errors.Add(new("spec.myASN", $"{value} is not an AS number (1 to 4294967295)"));
                return 0;
            default:
                return (uint)value.Value;
        }
    }

    // Exactly one of peerASN and dynamicASN; 0 counts as unset, as it does in MetalLB (Go's zero value).
    private static (uint? Asn, DynamicAsnMode? Dynamic) ParsePeerAsn(BGPPeerSpec spec, List<ValidationError> errors)
    {
        var hasAsn = spec.PeerASN is not null and not 0;
        var hasDynamic = !string.IsNullOrEmpty(spec.DynamicASN);
        if (!hasAsn && !hasDynamic)
        {
            errors.Add(new("spec.peerASN", "one of peerASN and dynamicASN must be set"));
            return (null, null);
        }

        if (hasAsn && hasDynamic)
        {
            errors.Add(new("spec.dynamicASN", "must not be set together with peerASN"));
            return (null, null);
        }

        if (hasDynamic)
        {
            DynamicAsnMode? mode = spec.DynamicASN switch
            {
                "internal" => DynamicAsnMode.Internal,
                "external" => DynamicAsnMode.External,
                _ => null,
            };
            if (mode is null)
            {
                errors.Add(new("spec.dynamicASN", $"\"{spec.DynamicASN}\" is neither \"internal\" nor \"external\""));
            }

            return (null, mode);
        }

        if (spec.PeerASN is < 0 or > MaxAsn)
        {
            errors.Add(new("spec.peerASN", $"{spec.PeerASN} is not an AS number (1 to 4294967295)"));
            return (null, null);
        }

        return ((uint)spec.PeerASN!.Value, null);
    }

    private static (IPAddress? Address, string? Interface) ParseEndpoint(BGPPeerSpec spec, List<ValidationError> errors)
    {
        var hasAddress = !string.IsNullOrEmpty(spec.PeerAddress);
        var hasInterface = !string.IsNullOrEmpty(spec.Interface);
        if (!hasAddress && !hasInterface)
        {
            errors.Add(new("spec.peerAddress", "one of peerAddress and interface must be set"));
            return (null, null);
        }

        if (hasAddress && hasInterface)
        {
            errors.Add(new("spec.interface", "must not be set together with peerAddress"));
            return (null, null);
        }

        if (hasInterface)
        {
            if (KubernetesNames.CheckInterfaceName(spec.Interface!) is { } ifError)
            {
                errors.Add(new("spec.interface", ifError));
            }

            return (null, spec.Interface);
        }

        if (!IpAddressText.TryParse(spec.PeerAddress!, out var address))
        {
            errors.Add(new("spec.peerAddress", $"\"{spec.PeerAddress}\" is not an IPv4 or IPv6 address"));
        }

        return (address, null);
    }

    private static IPAddress? ParseSourceAddress(string? text, IPAddress? peerAddress, List<ValidationError> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!IpAddressText.TryParse(text, out var source))
        {
            errors.Add(new("spec.sourceAddress", $"\"{text}\" is not an IPv4 or IPv6 address"));
            return null;
        }

        if (peerAddress is not null && peerAddress.AddressFamily != source.AddressFamily)
        {
            errors.Add(new("spec.sourceAddress", $"{source} and peerAddress {peerAddress} are of different IP families"));
        }

        return source;
    }

    private static ushort ParsePort(long? port, List<ValidationError> errors)
    {
        switch (port)
        {
            case null or 0:
                return BgpPeerConfig.DefaultPort;
            case < 0 or > MaxPort:
                errors.Add(new("spec.peerPort", $"{port} is out of range 0-16384 (0 means 179)"));
                return BgpPeerConfig.DefaultPort;
            default:
                return (ushort)port.Value;
        }
    }

    // MetalLB's rules: one timer alone implies the other (keepalive = hold / 3); the hold time, in whole seconds,
    // is 0 (no keepalives) or at least 3s. Beyond MetalLB: the keepalive must be shorter than a non-zero hold
    // time, and 0 when the hold time is 0, and the hold time must fit the OPEN message.
    private static (TimeSpan? Hold, TimeSpan? Keepalive) ParseTimers(string? holdText, string? keepaliveText, List<ValidationError> errors)
    {
        var hold = ParseDuration(holdText, "spec.holdTime", errors);
        var keepalive = ParseDuration(keepaliveText, "spec.keepaliveTime", errors);
        if ((holdText is not null && hold is null) || (keepaliveText is not null && keepalive is null))
        {
            return (null, null);
        }

        if (hold is null && keepalive is null)
        {
            return (null, null);
        }

        var holdField = hold is null ? "spec.keepaliveTime" : "spec.holdTime";
        var holdSource = hold is null ? $"three times keepaliveTime {keepaliveText}" : holdText;
        var effectiveHold = WholeSeconds(hold ?? keepalive!.Value * 3);
        var effectiveKeepalive = keepalive ?? effectiveHold / 3;
        if (effectiveHold != TimeSpan.Zero && effectiveHold < MinHoldTime)
        {
            errors.Add(new(holdField, $"hold time {Format(effectiveHold)} ({holdSource}) must be 0 or at least 3s"));
        }
        else if (effectiveHold > MaxHoldTime)
        {
            errors.Add(new(holdField, $"hold time {Format(effectiveHold)} ({holdSource}) exceeds 65535s, the most a BGP OPEN message can carry"));
        }
        else if (effectiveHold == TimeSpan.Zero && effectiveKeepalive > TimeSpan.Zero)
        {
            errors.Add(new("spec.keepaliveTime", $"{keepaliveText} must be 0 when holdTime is 0 (a zero hold time disables keepalives)"));
        }
        else if (effectiveHold > TimeSpan.Zero && effectiveKeepalive >= effectiveHold)
        {
            errors.Add(new("spec.keepaliveTime", $"{keepaliveText} must be shorter than holdTime {Format(effectiveHold)}"));
        }

        return (effectiveHold, effectiveKeepalive);
    }

    private static TimeSpan? ParseConnectTime(string? text, List<ValidationError> errors)
    {
        if (ParseDuration(text, "spec.connectTime", errors) is not { } connect)
        {
            return null;
        }

        if (connect.Ticks % TimeSpan.TicksPerSecond != 0 || connect < TimeSpan.FromSeconds(1) || connect > TimeSpan.FromSeconds(ushort.MaxValue))
        {
            errors.Add(new("spec.connectTime", $"{text} must be a whole number of seconds from 1s to 65535s"));
        }

        return connect;
    }

    private static TimeSpan? ParseDuration(string? text, string field, List<ValidationError> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (!GoDuration.TryParse(text, out var value, out var error))
        {
            errors.Add(new(field, error));
            return null;
        }

        if (value < TimeSpan.Zero)
        {
            errors.Add(new(field, $"{text} is negative"));
            return null;
        }

        return value;
    }

    private static IPAddress? ParseRouterId(string? text, List<ValidationError> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        // The BGP identifier is a non-zero 32-bit number written as an IPv4 address (RFC 4271, RFC 6286).
        if (!IpAddressText.TryParse(text, out var id) || id.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            errors.Add(new("spec.routerID", $"\"{text}\" is not an IPv4 address (the BGP identifier is 32 bits)"));
            return null;
        }

        if (id.Equals(IPAddress.Any))
        {
            errors.Add(new("spec.routerID", "0.0.0.0 is not a valid BGP identifier"));
            return null;
        }

        return id;
    }

    private static SecretKeyReference? ParsePassword(BGPPeerSpec spec, string? peerNamespace, List<ValidationError> errors)
    {
        if (!string.IsNullOrEmpty(spec.Password) && System.Text.Encoding.UTF8.GetByteCount(spec.Password) > MaxPasswordBytes)
        {
            errors.Add(new("spec.password", "is longer than 80 bytes, the TCP MD5 key limit"));
        }

        // MetalLB serializes an unset reference as "passwordSecret: {}", so an empty object means unset.
        var reference = spec.PasswordSecret;
        if (reference is null || (string.IsNullOrEmpty(reference.Name) && string.IsNullOrEmpty(reference.Namespace)))
        {
            return null;
        }

        if (!string.IsNullOrEmpty(spec.Password))
        {
            errors.Add(new("spec.passwordSecret", "must not be set together with password"));
            return null;
        }

        if (string.IsNullOrEmpty(reference.Name))
        {
            errors.Add(new("spec.passwordSecret.name", "must be set"));
            return null;
        }

        if (KubernetesNames.CheckDnsSubdomain(reference.Name) is { } nameError)
        {
            errors.Add(new("spec.passwordSecret.name", nameError));
            return null;
        }

        if (!string.IsNullOrEmpty(reference.Namespace) && peerNamespace is not null && reference.Namespace != peerNamespace)
        {
            errors.Add(new("spec.passwordSecret.namespace",
                $"\"{reference.Namespace}\" is not the BGPPeer's namespace \"{peerNamespace}\"; secrets are read only from there"));
            return null;
        }

        var ns = string.IsNullOrEmpty(reference.Namespace) ? peerNamespace ?? "" : reference.Namespace;
        return new SecretKeyReference(ns, reference.Name);
    }

    private static TimeSpan WholeSeconds(TimeSpan value) => TimeSpan.FromSeconds(Math.Floor(value.TotalSeconds));

    private static string Format(TimeSpan value) => $"{(long)value.TotalSeconds}s";
}
