namespace BareLb.Layer2;

/// <summary>Interface flags as the kernel reports them (linux/if.h values), those the interface policy reads.</summary>
[Flags]
public enum LinkFlags : uint
{
    None = 0,
    Up = 0x1,
    Loopback = 0x8,
    NoArp = 0x80,
    /// <summary>Carrier present (IFF_LOWER_UP): frames sent now reach the wire.</summary>
    LowerUp = 0x1_0000,
}

/// <summary>
/// A network interface as rtnetlink lists it. <paramref name="MasterIndex"/> is the bridge, bond or VRF the
/// interface is enslaved to (0: none); <paramref name="Kind"/> the link kind (bridge, bond, vlan, veth, vrf, ...),
/// null for plain hardware; <paramref name="HardwareType"/> the ARPHRD value (1 = Ethernet).
/// </summary>
public sealed record LinkInfo(int Index, string Name, MacAddress Mac, LinkFlags Flags, int MasterIndex = 0, string? Kind = null, ushort HardwareType = LinkInfo.HardwareTypeEthernet)
{
    public const ushort HardwareTypeEthernet = 1;

    public bool IsUp => Flags.HasFlag(LinkFlags.Up);

    public bool HasCarrier => Flags.HasFlag(LinkFlags.LowerUp);

    public override string ToString() => $"{Name}(#{Index} {Mac} {Flags}{(Kind is null ? "" : " " + Kind)}{(MasterIndex == 0 ? "" : $" master #{MasterIndex}")})";
}
