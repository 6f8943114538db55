using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

public sealed class PoolAllocatorLifecycleTests
{
    private static ServiceRequest Dual(string key) =>
        Service(key) with { FamilyPolicy = IpFamilyPolicy.RequireDualStack, Families = [IpFamily.IPv4, IpFamily.IPv6] };

    // ---- Allocate on an existing assignment ---------------------------------------------------------------

    [Fact]
    public void Allocate_SameRequestAgain_ReturnsSameAssignmentEvenWhenLowerAddressFreed()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/first"));
        var original = allocator.Allocate(Service("ns/a"));
        allocator.Release(Key("ns/first"));

        var again = allocator.Allocate(Service("ns/a"));

        Assert.Equal(original.Addresses(), again.Addresses());
        Assert.Equal(["10.0.0.1"], again.Addresses());
        Assert.Equal(original.Assignment!.Pool, again.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_ChangedRequestedAddress_MovesAndReleasesOld()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.50")] });

        var moved = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.60")] });

        Assert.Equal(["10.0.0.60"], moved.Addresses());
        Assert.Equal(["10.0.0.50"], allocator.Allocate(Service("ns/b") with { RequestedAddresses = [Ip("10.0.0.50")] }).Addresses());
    }

    [Fact]
    public void Allocate_ChangedRequestThatFails_KeepsOldAssignment()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/other") with { RequestedAddresses = [Ip("10.0.0.60")] });
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.50")] });

        var inUse = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.60")] });
        var noPool = allocator.Allocate(Service("ns/a") with { RequestedPool = "missing" });

        Assert.Equal(AllocationFailure.AddressInUse, inUse.Failure);
        Assert.Equal(AllocationFailure.NoCompatiblePool, noPool.Failure);
        Assert.Equal(["10.0.0.50"], allocator.GetAssignment(Key("ns/a")).Addresses());
        Assert.Equal(AllocationFailure.AddressInUse, allocator.Allocate(Service("ns/b") with { RequestedAddresses = [Ip("10.0.0.50")] }).Failure);
    }

    [Fact]
    public void Allocate_ChangedRequestedPool_MovesToThatPool()
    {
        var allocator = AllocatorWith(Pool("a", "10.0.1.0/24"), Pool("b", "10.0.2.0/24"));
        allocator.Allocate(Service("ns/s"));

        var moved = allocator.Allocate(Service("ns/s") with { RequestedPool = "b" });

        Assert.Equal(["10.0.2.0"], moved.Addresses());
        Assert.Equal("b", moved.Assignment!.Pool);
        Assert.Equal(["10.0.1.0"], allocator.Allocate(Service("ns/t")).Addresses());
    }

    [Fact]
    public void Allocate_DualStackBecomesSingleStack_KeepsPrimaryAddress()
    {
        var allocator = AllocatorWith(Pool("dual", "10.0.1.0/24", "2001:db8::/64"));
        allocator.Allocate(Service("ns/first"));
        allocator.Allocate(Dual("ns/a"));
        allocator.Release(Key("ns/first"));

        var single = allocator.Allocate(Service("ns/a"));

        Assert.Equal(["10.0.1.1"], single.Addresses());
        Assert.Equal(["2001:db8::"], allocator.Allocate(Service("ns/b") with { Families = [IpFamily.IPv6] }).Addresses());
    }

    [Fact]
    public void Allocate_SingleStackBecomesRequireDualStack_AddsSecondFamilyKeepingFirst()
    {
        var allocator = AllocatorWith(Pool("dual", "10.0.1.0/24", "2001:db8::/64"));
        allocator.Allocate(Service("ns/first"));
        allocator.Allocate(Service("ns/a"));
        allocator.Release(Key("ns/first"));

        var dual = allocator.Allocate(Dual("ns/a"));

        Assert.Equal(["10.0.1.1", "2001:db8::"], dual.Addresses());
    }

    [Fact]
    public void Allocate_PoolNoLongerAdmitsService_ReallocatesFromAdmittingPool()
    {
        var allocator = AllocatorWith(Pool("a", "10.0.1.0/24"), Pool("b", "10.0.2.0/24"));
        allocator.Allocate(Service("ns/s"));
        allocator.SetPools([Pool("a", "10.0.1.0/24") with { ServiceAllocation = Allocation(namespaces: ["other"]) }, Pool("b", "10.0.2.0/24")]);
        Assert.Equal(["10.0.1.0"], allocator.GetAssignment(Key("ns/s")).Addresses());

        var moved = allocator.Allocate(Service("ns/s"));

        Assert.Equal(["10.0.2.0"], moved.Addresses());
    }

    // ---- Release and Restore --------------------------------------------------------------------------------

    [Fact]
    public void Release_HeldAndUnknownService_ReturnsWhetherSomethingWasReleased()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.1/32"));
        allocator.Allocate(Service("ns/a"));

        Assert.True(allocator.Release(Key("ns/a")));
        Assert.False(allocator.Release(Key("ns/a")));
        Assert.False(allocator.Release(Key("ns/never")));
        Assert.Null(allocator.GetAssignment(Key("ns/a")));
        Assert.Equal(["10.0.0.1"], allocator.Allocate(Service("ns/b")).Addresses());
    }

    [Fact]
    public void Restore_AddressInPool_ClaimsItInThatPool()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));

        var result = allocator.Restore(Service("ns/a"), [Ip("10.0.0.9")]);

        Assert.Equal(["10.0.0.9"], result.Addresses());
        Assert.Equal("p", result.Assignment!.Pool);
        Assert.Equal(["ns/a"], allocator.HoldersOf("p").Select(h => h.Service.ToString()));
        Assert.Empty(allocator.Misplaced());
    }

    [Fact]
    public void Restore_AddressOutsideEveryPool_SucceedsAsOrphan()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));

        var result = allocator.Restore(Service("ns/a"), [Ip("203.0.113.1")]);

        Assert.True(result.Succeeded);
        Assert.Null(result.Assignment!.Pool);
        Assert.Equal([result.Assignment], allocator.Misplaced());
        Assert.Equal(AllocationFailure.AddressInUse, allocator.Restore(Service("ns/b"), [Ip("203.0.113.1")]).Failure);
    }

    [Fact]
    public void Restore_AddressHeldByOther_FailsNamingHolderAndKeepsBoth()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Restore(Service("ns/a"), [Ip("10.0.0.9")]);
        allocator.Restore(Service("ns/b"), [Ip("10.0.0.10")]);

        var result = allocator.Restore(Service("ns/b"), [Ip("10.0.0.9")]);

        Assert.Equal(AllocationFailure.AddressInUse, result.Failure);
        Assert.Equal("address 10.0.0.9 is in use by ns/a", result.Message);
        Assert.Equal(["10.0.0.10"], allocator.GetAssignment(Key("ns/b")).Addresses());
    }

    [Fact]
    public void Restore_BuggyAddressInAvoidBuggyPool_IsKept()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24") with { AvoidBuggyIPs = true });

        var result = allocator.Restore(Service("ns/a"), [Ip("10.0.0.255")]);

        Assert.True(result.Succeeded);
        Assert.Equal("p", result.Assignment!.Pool);
    }

    [Theory]
    [InlineData(new string[0], "no addresses to restore")]
    [InlineData(new[] { "10.0.0.1", "10.0.0.2" }, "restored addresses hold two IPv4 addresses; at most one address per family")]
    [InlineData(new[] { "::ffff:10.0.0.1" }, "restored address ::ffff:10.0.0.1 is an IPv4-mapped IPv6 address; use 10.0.0.1")]
    public void Restore_MalformedAddresses_IsInvalidRequest(string[] addresses, string message)
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));

        var result = allocator.Restore(Service("ns/a"), [.. addresses.Select(Ip)]);

        Assert.Equal(AllocationFailure.InvalidRequest, result.Failure);
        Assert.Equal(message, result.Message);
    }

    [Fact]
    public void Restore_ThenAllocateWithSameRequest_KeepsRestoredAddress()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Restore(Service("ns/a"), [Ip("10.0.0.77")]);

        Assert.Equal(["10.0.0.77"], allocator.Allocate(Service("ns/a")).Addresses());
        Assert.Equal(["10.0.0.0"], allocator.Allocate(Service("ns/b")).Addresses());
    }

    // ---- SetPools and SetDraining ---------------------------------------------------------------------------

    [Fact]
    public void SetPools_PoolShrinksOrDisappears_KeepsAssignmentsAsMisplaced()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"), Pool("q", "10.0.1.0/24"));
        allocator.Restore(Service("ns/a"), [Ip("10.0.0.200")]);
        allocator.Restore(Service("ns/b"), [Ip("10.0.1.5")]);
        allocator.Restore(Service("ns/c"), [Ip("10.0.0.5")]);

        allocator.SetPools([Pool("p", "10.0.0.0/25")]);

        Assert.Equal(["10.0.0.200"], allocator.GetAssignment(Key("ns/a")).Addresses());
        Assert.Equal(["10.0.1.5"], allocator.GetAssignment(Key("ns/b")).Addresses());
        Assert.Equal(["ns/a", "ns/b"], allocator.Misplaced().Select(o => o.Service.ToString()));
        Assert.All(allocator.Misplaced(), o => Assert.Null(o.Pool));
        Assert.Equal(["ns/c"], allocator.HoldersOf("p").Select(o => o.Service.ToString()));
        Assert.Equal(AllocationFailure.AddressInUse, allocator.Restore(Service("ns/x"), [Ip("10.0.0.200")]).Failure);
    }

    [Fact]
    public void SetPools_AddressesMoveToAnotherPool_RelabelsWithoutMoving()
    {
        var allocator = AllocatorWith(Pool("old", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a"));

        allocator.SetPools([Pool("new", "10.0.0.0/16")]);

        Assert.Equal("new", allocator.GetAssignment(Key("ns/a"))!.Pool);
        Assert.Equal(["10.0.0.0"], allocator.GetAssignment(Key("ns/a")).Addresses());
        Assert.Empty(allocator.Misplaced());
        Assert.Equal(["10.0.0.1"], allocator.Allocate(Service("ns/b")).Addresses());
    }

    [Fact]
    public void SetPools_DuplicateName_ThrowsNamingPool()
    {
        var allocator = new PoolAllocator();

        var error = Assert.Throws<ArgumentException>(() => allocator.SetPools([Pool("p", "10.0.0.0/24"), Pool("p", "10.0.1.0/24")]));

        Assert.StartsWith("pool \"p\" is defined twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetPools_RangeNotFromParser_ThrowsNamingPool()
    {
        var allocator = new PoolAllocator();
        var reversed = new IpRange(IpFamily.IPv4, 10, 5);

        var error = Assert.Throws<ArgumentException>(() => allocator.SetPools([new PoolDefinition("p", [reversed])]));

        Assert.StartsWith("pool \"p\" has an invalid range (IPv4 10-5)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetDraining_Pool_GivesNothingNewHoldersKeepUntilReallocated()
    {
        var allocator = AllocatorWith(Pool("a", "10.0.1.0/24"), Pool("b", "10.0.2.0/24"));
        allocator.Allocate(Service("ns/s1"));

        allocator.SetDraining(new HashSet<string> { "a" });

        Assert.Equal(["10.0.1.0"], allocator.GetAssignment(Key("ns/s1")).Addresses());
        Assert.Equal(["10.0.2.0"], allocator.Allocate(Service("ns/s2")).Addresses());
        Assert.Equal(["b"], allocator.CandidatePools(Service("ns/s3")));
        Assert.Equal(["ns/s1"], allocator.HoldersOf("a").Select(h => h.Service.ToString()));
        Assert.Equal(["ns/s1"], allocator.Misplaced().Select(h => h.Service.ToString()));
        var requested = allocator.Allocate(Service("ns/s3") with { RequestedPool = "a" });
        Assert.Equal(AllocationFailure.NoCompatiblePool, requested.Failure);
        Assert.Equal("pool a is being deleted and hands out no new addresses", requested.Message);
        var address = allocator.Allocate(Service("ns/s4") with { RequestedAddresses = [Ip("10.0.1.9")] });
        Assert.Equal(AllocationFailure.NoCompatiblePool, address.Failure);
        // Reconciled again, the holder leaves the draining pool for one that can take it.
        Assert.Equal(["10.0.2.1"], allocator.Allocate(Service("ns/s1")).Addresses());
        Assert.Empty(allocator.Misplaced());
    }

    [Fact]
    public void SetDraining_Cleared_PoolServesAgainAndNothingMisplaced()
    {
        var allocator = AllocatorWith(Pool("a", "10.0.1.0/24"));
        allocator.Allocate(Service("ns/s1"));
        allocator.SetDraining(new HashSet<string> { "a" });
        Assert.Equal(AllocationFailure.NoCompatiblePool, allocator.Allocate(Service("ns/s2")).Failure);

        allocator.SetDraining(new HashSet<string>());

        Assert.Empty(allocator.Misplaced());
        Assert.Equal(["10.0.1.1"], allocator.Allocate(Service("ns/s2")).Addresses());
    }

    public static TheoryData<PoolDefinition[], string[]> OverlapCases => new()
    {
        { [Pool("a", "10.0.0.0/24"), Pool("b", "10.0.1.0/24")], [] },
        { [Pool("b", "10.0.0.0/24"), Pool("a", "10.0.0.128/25")], ["a b 10.0.0.128/25"] },
        { [Pool("a", "10.0.0.10-10.0.0.20"), Pool("b", "10.0.0.15-10.0.0.30")], ["a b 10.0.0.15-10.0.0.20"] },
        { [Pool("a", "10.0.0.0/24", "2001:db8::/64"), Pool("b", "2001:db8::/48")], ["a b 2001:db8::/64"] },
        { [Pool("a", "10.0.0.0/24"), Pool("b", "10.0.0.0/25", "10.0.0.200-10.0.0.210")], ["a b 10.0.0.0/25", "a b 10.0.0.200-10.0.0.210"] },
        { [Pool("a", "10.0.0.0/24"), Pool("b", "10.0.0.5/32"), Pool("c", "10.0.0.5-10.0.0.6")], ["a b 10.0.0.5/32", "a c 10.0.0.5-10.0.0.6", "b c 10.0.0.5/32"] },
        { [Pool("a", "10.0.0.0/25", "10.0.0.100-10.0.0.200"), Pool("b", "10.0.0.127-10.0.0.128")], ["a b 10.0.0.127-10.0.0.128"] },
        { [Pool("a", "10.0.0.0/26", "10.0.0.128/26"), Pool("b", "10.0.0.60-10.0.0.130")], ["a b 10.0.0.60/30", "a b 10.0.0.128-10.0.0.130"] },
    };

    [Theory]
    [MemberData(nameof(OverlapCases))]
    public void SetPools_OverlappingPools_ReportsEveryPairWithSharedRange(PoolDefinition[] pools, string[] expected)
    {
        var overlaps = new PoolAllocator().SetPools(pools);

        Assert.Equal(expected, overlaps.Select(o => $"{o.PoolA} {o.PoolB} {o.Shared}"));
    }

    // ---- usage ----------------------------------------------------------------------------------------------

    public static TheoryData<string, PoolDefinition, string[], string[]> UsageCases => new()
    {
        { "plain /24", Pool("p", "10.0.0.0/24"), ["10.0.0.1", "10.0.0.2", "10.0.0.255"], ["3", "0", "253", "0"] },
        { "avoidBuggy /24", Pool("p", "10.0.0.0/24") with { AvoidBuggyIPs = true }, ["10.0.0.1"], ["1", "0", "253", "0"] },
        { "avoidBuggy /22", Pool("p", "10.0.0.0/22") with { AvoidBuggyIPs = true }, [], ["0", "0", "1016", "0"] },
        { "avoidBuggy odd range", Pool("p", "10.0.0.255-10.0.2.0") with { AvoidBuggyIPs = true }, [], ["0", "0", "254", "0"] },
        { "avoidBuggy restored .0 counts as assigned only", Pool("p", "10.0.0.0/24") with { AvoidBuggyIPs = true }, ["10.0.0.0", "10.0.0.7"], ["2", "0", "253", "0"] },
        { "avoidBuggy whole IPv4", Pool("p", "0.0.0.0/0") with { AvoidBuggyIPs = true }, [], ["0", "0", (4294967296 - 2 * 16777216).ToString(), "0"] },
        { "dual", Pool("p", "10.0.0.0/30", "2001:db8::/126"), ["10.0.0.1", "2001:db8::3"], ["1", "1", "3", "3"] },
        { "overlapping own ranges counted once", Pool("p", "10.0.0.0/24", "10.0.0.128/25"), ["10.0.0.200"], ["1", "0", "255", "0"] },
        { "IPv6 /64", Pool("p", "2001:db8::/64"), ["2001:db8::1"], ["0", "1", "0", "18446744073709551615"] },
        { "::/0 empty saturates", Pool("p", "::/0"), [], ["0", "0", "0", "340282366920938463463374607431768211455"] },
        { "::/0 two held", Pool("p", "::/0"), ["2001:db8::1", "::"], ["0", "2", "0", "340282366920938463463374607431768211454"] },
    };

    [Theory]
    [MemberData(nameof(UsageCases))]
    public void GetUsage_Pool_CountsAssignedAndAvailablePerFamily(string name, PoolDefinition pool, string[] held, string[] expected)
    {
        var allocator = AllocatorWith(pool);
        for (var i = 0; i < held.Length; i++)
        {
            Assert.True(allocator.Restore(Service($"ns/s{i}"), [Ip(held[i])]).Succeeded);
        }

        var usage = allocator.GetUsage("p");

        Assert.True(
            expected.SequenceEqual([$"{usage.AssignedIPv4}", $"{usage.AssignedIPv6}", $"{usage.AvailableIPv4}", $"{usage.AvailableIPv6}"]),
            $"{name}: {usage}");
    }

    [Fact]
    public void GetUsage_AddressHeldThroughOverlappingPool_IsNotAvailable()
    {
        var allocator = AllocatorWith(
            Pool("a", "10.0.0.0/30") with { ServiceAllocation = Allocation(priority: 1) },
            Pool("b", "10.0.0.2-10.0.0.9"));
        for (var i = 0; i < 4; i++)
        {
            allocator.Allocate(Service($"ns/s{i}"));
        }

        Assert.Equal(new PoolUsage(2, 0, 6, 0), allocator.GetUsage("b"));
        Assert.Equal(new PoolUsage(4, 0, 0, 0), allocator.GetUsage("a"));
    }

    [Fact]
    public void GetUsage_UnknownPool_Throws()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => new PoolAllocator().GetUsage("nope"));
        Assert.Equal("pool \"nope\" does not exist", error.Message);
    }

    [Fact]
    public void HoldersOf_Pool_SortedByServiceKey()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        foreach (var key in new[] { "b/x", "a/z", "a/b", "B/a" })
        {
            allocator.Allocate(Service(key));
        }

        Assert.Equal(["B/a", "a/b", "a/z", "b/x"], allocator.HoldersOf("p").Select(h => h.Service.ToString()));
        Assert.Empty(allocator.HoldersOf("missing"));
    }
}
