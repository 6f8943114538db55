using System.Net;

namespace BareLb.Lab;

/// <summary>
/// The lab's address plan, all from the documentation ranges. One LAN (a bridge) carries 198.51.100.0/24 and
/// 2001:db8:100::/64; the example pools' addresses are on it or reachable on-link from the client:
/// <code>
///   api server   198.51.100.2     2001:db8:100::1:2
///   nodeN        198.51.100.(2+N) 2001:db8:100::1:(2+N)     (N = 1..12)
///   client       198.51.100.250   2001:db8:100::1:fa
///   pools        198.51.100.16-127, 198.51.100.200-220, 203.0.113.0/28, 2001:db8:100::1-ff, 2001:db8:200::1-f
/// </code>
/// Infrastructure addresses stay clear of the pools, so the controller never hands one out. In BGP mode a router
/// (198.51.100.1, 2001:db8:100::1:1, AS 64513) peers with every node (AS 64512) and the client sits behind it on
/// 203.0.113.128/25 and 2001:db8:300::/64, reaching the pools only through the routes the nodes advertise.
/// </summary>
public static class LabAddressing
{
    public const int MaxNodes = 12;
    public const int PrefixV4 = 24;
    public const int PrefixV6 = 64;

    public static IPAddress ApiV4 { get; } = IPAddress.Parse("198.51.100.2");
    public static IPAddress ApiV6 { get; } = IPAddress.Parse("2001:db8:100::1:2");
    public static IPAddress ClientV4 { get; } = IPAddress.Parse("198.51.100.250");
    public static IPAddress ClientV6 { get; } = IPAddress.Parse("2001:db8:100::1:fa");

    /// <summary>Ranges the client reaches on-link (the LAN, plus pool ranges outside the LAN prefix), as a real LAN's router would.</summary>
    public static IReadOnlyList<string> OnLinkRoutes { get; } = ["203.0.113.0/24", "2001:db8:200::/64"];

    /// <summary>BGP mode: the router on the LAN, and the client's network behind it.</summary>
    public static IPAddress RouterV4 { get; } = IPAddress.Parse("198.51.100.1");
    public static IPAddress RouterV6 { get; } = IPAddress.Parse("2001:db8:100::1:1");
    public static IPAddress RouterOutsideV4 { get; } = IPAddress.Parse("203.0.113.129");
    public static IPAddress RouterOutsideV6 { get; } = IPAddress.Parse("2001:db8:300::1");
    public static IPAddress OutsideClientV4 { get; } = IPAddress.Parse("203.0.113.130");
    public static IPAddress OutsideClientV6 { get; } = IPAddress.Parse("2001:db8:300::2");
    public const int OutsidePrefixV4 = 25;
    public const uint RouterAsn = 64513;
    public const uint NodeAsn = 64512;

    public static IPAddress NodeV4(int n) => IPAddress.Parse($"198.51.100.{2 + n}");

    public static IPAddress NodeV6(int n) => IPAddress.Parse($"2001:db8:100::1:{2 + n:x}");

    public const int BackendPort = 8080;
}
