using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

/// <summary>
/// What happens to an address already held when the pools change, as MetalLB does it: the address stays wherever
/// some live pool still contains it, admits the service and would hand it out; only otherwise the service gets a
/// new address, first from a pool that contains the old one.
/// </summary>
public sealed class PoolAllocatorReassignmentTests
{
    [Fact]
    public void SetPools_PoolRenamed_SameAddressNamesNewPool()
    {
        var allocator = AllocatorWith(Pool("old", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a"));

        allocator.SetPools([Pool("old", "10.0.0.0/24"), Pool("new", "10.0.0.0/24")]);
        allocator.SetDraining(new HashSet<string> { "old" });

        Assert.Equal("new", allocator.GetAssignment(Key("ns/a"))!.Pool);
        Assert.Empty(allocator.Misplaced());
        Assert.Equal(["10.0.0.0"], allocator.Allocate(Service("ns/a") with { RecordedPool = "old" }).Addresses());
        Assert.Equal("new", allocator.GetAssignment(Key("ns/a"))!.Pool);
        Assert.Empty(allocator.HoldersOf("old"));
        Assert.Equal((UInt128)1, allocator.GetUsage("new").AssignedIPv4);
    }

    [Fact]
    public void SetPools_PoolSplit_EachServiceNamesThePoolHoldingItsAddress()
    {
        var allocator = AllocatorWith(Pool("all", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.10")] });
        allocator.Allocate(Service("ns/b") with { RequestedAddresses = [Ip("10.0.0.200")] });

        allocator.SetPools([Pool("low", "10.0.0.0/25"), Pool("high", "10.0.0.128/25")]);

        Assert.Equal("low", allocator.GetAssignment(Key("ns/a"))!.Pool);
        Assert.Equal("high", allocator.GetAssignment(Key("ns/b"))!.Pool);
        Assert.Empty(allocator.Misplaced());
        Assert.Equal((UInt128)1, allocator.GetUsage("low").AssignedIPv4);
        Assert.Equal((UInt128)1, allocator.GetUsage("high").AssignedIPv4);
    }

    [Fact]
    public void PoolOf_OverlappingPools_RecordedPoolWinsSoRestartNamesSamePool()
    {
        var allocator = AllocatorWith(Pool("a", "10.0.0.0/24"), Pool("b", "10.0.0.0/24"));

        var restored = allocator.Restore(Service("ns/s") with { RecordedPool = "b" }, [Ip("10.0.0.5")]);
        var plain = allocator.Restore(Service("ns/t"), [Ip("10.0.0.6")]);

        Assert.Equal("b", restored.Assignment!.Pool);
        Assert.Equal("a", plain.Assignment!.Pool);
    }

    [Fact]
    public void PoolOf_RecordedPoolThatNoLongerServes_NotNamed()
    {
        var allocator = AllocatorWith(Pool("a", "10.0.0.0/24"), Pool("b", "10.0.0.0/24"));
        allocator.SetDraining(new HashSet<string> { "b" });

        var restored = allocator.Restore(Service("ns/s") with { RecordedPool = "b" }, [Ip("10.0.0.5")]);

        Assert.Equal("a", restored.Assignment!.Pool);
    }

    [Fact]
    public void SetPools_AddressMovesIntoPoolThatDoesNotAdmitService_Misplaced()
    {
        var allocator = AllocatorWith(Pool("open", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a"));

        allocator.SetPools([new PoolDefinition("team", [Range("10.0.0.0/24")], ServiceAllocation: Allocation(namespaces: ["team"]))]);

        Assert.Equal(["ns/a"], allocator.Misplaced().Select(m => m.Service.ToString()));
        Assert.True(allocator.IsMisplaced(Key("ns/a")));
    }

    [Fact]
    public void SetPools_AddressMovesIntoNonAutoAssignPool_KeptAsMetalLbKeepsIt()
    {
        var allocator = AllocatorWith(Pool("old", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a"));

        allocator.SetPools([new PoolDefinition("manual", [Range("10.0.0.0/24")], AutoAssign: false)]);

        Assert.Empty(allocator.Misplaced());
        Assert.Equal(["10.0.0.0"], allocator.Allocate(Service("ns/a")).Addresses());
        Assert.Equal("manual", allocator.GetAssignment(Key("ns/a"))!.Pool);
    }

    [Fact]
    public void Allocate_BuggyAddressMovedIntoAvoidBuggyPool_GetsValidAddressFromThatPool()
    {
        var allocator = AllocatorWith(Pool("old", "10.0.5.0/24"));
        Assert.Equal(["10.0.5.0"], allocator.Allocate(Service("ns/a")).Addresses());

        // A preferred pool exists, but the service's address lies in "strict": it stays in "strict".
        allocator.SetPools([
            new PoolDefinition("first", [Range("10.0.9.0/24")], ServiceAllocation: Allocation(priority: 1)),
            new PoolDefinition("strict", [Range("10.0.5.0/24")], AvoidBuggyIPs: true),
        ]);

        Assert.True(allocator.IsMisplaced(Key("ns/a")));
        var moved = allocator.Allocate(Service("ns/a"), ticket: 1);
        Assert.Equal(["10.0.5.1"], moved.Addresses());
        Assert.Equal("strict", moved.Assignment!.Pool);
        Assert.Equal(["10.0.5.0"], allocator.ReservedFor(Key("ns/a")).Select(a => a.ToString()));
    }
}
