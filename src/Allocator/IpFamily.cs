namespace BareLb.Allocator;

public enum IpFamily
{
    IPv4,
    IPv6,
}
