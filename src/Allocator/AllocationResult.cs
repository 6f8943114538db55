using System.Net;

namespace BareLb.Allocator;

public enum AllocationFailure
{
    None,
    PoolExhausted,
    NoCompatiblePool,
    AddressInUse,
    InvalidRequest,
}

// Pool is null when the addresses lie in no current pool.
public sealed record Assignment(ServiceKey Service, string? Pool, IReadOnlyList<IPAddress> Addresses);

public sealed record AllocationResult(AllocationFailure Failure, Assignment? Assignment, string? Message)
{
    public bool Succeeded => Failure == AllocationFailure.None;
}

// PoolA < PoolB in ordinal order.
public sealed record PoolOverlap(string PoolA, string PoolB, IpRange Shared);

public sealed record PoolUsage(UInt128 AssignedIPv4, UInt128 AssignedIPv6, UInt128 AvailableIPv4, UInt128 AvailableIPv6);
