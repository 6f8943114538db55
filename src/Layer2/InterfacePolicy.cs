namespace BareLb.Layer2;

/// <summary>Why an interface may or may not announce an address; the first failed check wins.</summary>
public enum LinkVerdict
{
    Allowed,
    Down,
    Loopback,
    NoArp,
    /// <summary>Not an Ethernet link (ARPHRD other than 1, or no 6-octet address): ARP and NDP over Ethernet do not apply.</summary>
    NotEthernet,
    /// <summary>A port of a bridge or bond: the master interface is the one that answers.</summary>
    Enslaved,
    /// <summary>Matches the exclusion list and was not named explicitly.</summary>
    Excluded,
    /// <summary>An explicit interface list is given and does not name it.</summary>
    NotListed,
}

/// <summary>
/// Which interfaces may announce an address, from the links the kernel lists and the interfaces the matching
/// advertisements name. Pure.
/// <para>
/// Rules, in order: the interface must be up, not loopback, not NOARP, Ethernet, and not enslaved to a bridge or a
/// bond (enslaved to a VRF is fine: a VRF member still owns its frames). Then, with no explicit list (null or empty,
/// as in an L2Advertisement without <c>interfaces</c>), every interface passes that does not match the exclusion
/// list. With an explicit list, exactly the named interfaces pass, also those the exclusion list would skip (a user
/// naming <c>veth0</c> means it); but the hardware checks above still apply to them, as in MetalLB, where an
/// explicit list selects only among interfaces that pass the up/NOARP/enslaved checks.
/// </para>
/// </summary>
public sealed class InterfacePolicy
{
    /// <summary>Interfaces owned by container runtimes and CNIs, never the node's uplink. A trailing '*' matches any suffix.</summary>
    public static readonly IReadOnlyList<string> DefaultExcluded = ["lo", "veth*", "docker*", "cali*", "flannel*", "cni*", "kube-ipvs*"];

    private readonly IReadOnlyList<string> _excluded;

    public InterfacePolicy(IReadOnlyList<string>? excluded = null)
    {
        _excluded = excluded ?? DefaultExcluded;
    }

    public IReadOnlyList<string> Excluded => _excluded;

    /// <param name="link">The interface judged.</param>
    /// <param name="links">All links, to look up the kind of <paramref name="link"/>'s master.</param>
    /// <param name="requested">The advertisements' interface names; null or empty: all interfaces.</param>
    public LinkVerdict Judge(LinkInfo link, IReadOnlyList<LinkInfo> links, IReadOnlyList<string>? requested)
    {
        if (!link.IsUp)
        {
            return LinkVerdict.Down;
        }
        if (link.Flags.HasFlag(LinkFlags.Loopback))
        {
            return LinkVerdict.Loopback;
        }
        if (link.Flags.HasFlag(LinkFlags.NoArp))
        {
            return LinkVerdict.NoArp;
        }
        if (link.HardwareType != LinkInfo.HardwareTypeEthernet || link.Mac == MacAddress.Zero)
        {
            return LinkVerdict.NotEthernet;
        }
        if (link.MasterIndex != 0 && MasterKind(link.MasterIndex, links) != "vrf")
        {
            return LinkVerdict.Enslaved;
        }
        if (requested is { Count: > 0 })
        {
            return requested.Contains(link.Name, StringComparer.Ordinal) ? LinkVerdict.Allowed : LinkVerdict.NotListed;
        }
        return IsExcluded(link.Name) ? LinkVerdict.Excluded : LinkVerdict.Allowed;
    }

    public IReadOnlyList<LinkInfo> Allowed(IReadOnlyList<LinkInfo> links, IReadOnlyList<string>? requested) =>
        links.Where(l => Judge(l, links, requested) == LinkVerdict.Allowed).ToList();

    public bool IsExcluded(string name)
    {
        foreach (var pattern in _excluded)
        {
            var matches = pattern.EndsWith('*')
                ? name.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
                : string.Equals(name, pattern, StringComparison.Ordinal);
            if (matches)
            {
                return true;
            }
        }
        return false;
    }

    private static string? MasterKind(int index, IReadOnlyList<LinkInfo> links)
    {
        foreach (var l in links)
        {
            if (l.Index == index)
            {
                return l.Kind;
            }
        }
        return null;
    }
}
