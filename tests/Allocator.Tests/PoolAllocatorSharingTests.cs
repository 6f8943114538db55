using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

public sealed class PoolAllocatorSharingTests
{
    private static readonly PortKey Http = new("TCP", 80);
    private static readonly PortKey Https = new("TCP", 443);
    private static readonly PortKey Dns = new("UDP", 53);

    private static ServiceRequest Sharing(string key, string sharingKey, params PortKey[] ports) =>
        Service(key) with { SharingKey = sharingKey, Ports = ports };

    public static TheoryData<string, ServiceRequest, ServiceRequest, string?> Rules => new()
    {
        { "same key, disjoint ports", Sharing("ns/a", "k", Http), Sharing("ns/b", "k", Https), null },
        { "same port number, other protocol", Sharing("ns/a", "k", new PortKey("TCP", 53)), Sharing("ns/b", "k", Dns), null },
        {
            "same key, overlapping port",
            Sharing("ns/a", "k", Http, Https), Sharing("ns/b", "k", Dns, Http),
            "address 198.51.100.10 is shared by ns/a with key \"k\": port TCP/80 is used by both"
        },
        {
            "different keys",
            Sharing("ns/a", "k", Http), Sharing("ns/b", "other", Https),
            "address 198.51.100.10 is shared by ns/a with key \"k\", not \"other\""
        },
        {
            "holder has no key",
            Service("ns/a") with { Ports = [Http] }, Sharing("ns/b", "k", Https),
            "address 198.51.100.10 is in use by ns/a, which has no sharing key"
        },
        {
            "requester has no key",
            Sharing("ns/a", "k", Http), Service("ns/b") with { Ports = [Https] },
            "address 198.51.100.10 is in use by ns/a with sharing key \"k\"; this service has no sharing key"
        },
        {
            "Cluster with Local",
            Sharing("ns/a", "k", Http), Sharing("ns/b", "k", Https) with { ExternalTrafficPolicy = TrafficPolicy.Local },
            "address 198.51.100.10 is shared by ns/a with key \"k\": externalTrafficPolicy Local cannot share with Cluster"
        },
        {
            "Local with Cluster",
            Sharing("ns/a", "k", Http) with { ExternalTrafficPolicy = TrafficPolicy.Local }, Sharing("ns/b", "k", Https),
            "address 198.51.100.10 is shared by ns/a with key \"k\": externalTrafficPolicy Cluster cannot share with Local"
        },
        {
            "Local with identical selector",
            Sharing("ns/a", "k", Http) with { ExternalTrafficPolicy = TrafficPolicy.Local, Selector = Dict(("app", "web")) },
            Sharing("ns/b", "k", Https) with { ExternalTrafficPolicy = TrafficPolicy.Local, Selector = Dict(("app", "web")) },
            null
        },
        {
            "Local with different selector",
            Sharing("ns/a", "k", Http) with { ExternalTrafficPolicy = TrafficPolicy.Local, Selector = Dict(("app", "web")) },
            Sharing("ns/b", "k", Https) with { ExternalTrafficPolicy = TrafficPolicy.Local, Selector = Dict(("app", "db")) },
            "address 198.51.100.10 is shared by ns/a with key \"k\": externalTrafficPolicy Local needs the same pod selector on both services"
        },
        {
            "Local, one selector missing",
            Sharing("ns/a", "k", Http) with { ExternalTrafficPolicy = TrafficPolicy.Local, Selector = Dict(("app", "web")) },
            Sharing("ns/b", "k", Https) with { ExternalTrafficPolicy = TrafficPolicy.Local },
            "address 198.51.100.10 is shared by ns/a with key \"k\": externalTrafficPolicy Local needs the same pod selector on both services"
        },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Allocate_RequestedAddressHeldBySharer_FollowsSharingRules(string name, ServiceRequest holder, ServiceRequest second, string? conflict)
    {
        var allocator = AllocatorWith(Pool("p", "198.51.100.0/24"));
        Assert.True(allocator.Allocate(holder with { RequestedAddresses = [Ip("198.51.100.10")] }).Succeeded);

        var result = allocator.Allocate(second with { RequestedAddresses = [Ip("198.51.100.10")] });

        if (conflict is null)
        {
            Assert.True(result.Succeeded, $"{name}: {result.Message}");
            Assert.Equal(["198.51.100.10"], result.Addresses());
        }
        else
        {
            Assert.True(AllocationFailure.AddressInUse == result.Failure, name);
            Assert.Equal($"{conflict}", result.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Allocate_AutomaticWithSharingKey_ReusesOnlyCompatibleSharedAddress(string name, ServiceRequest holder, ServiceRequest second, string? conflict)
    {
        var allocator = AllocatorWith(Pool("p", "198.51.100.10-198.51.100.20"));
        Assert.True(allocator.Allocate(holder).Succeeded);

        var result = allocator.Allocate(second);

        // Compatible services join the address; incompatible ones get the next free one instead of failing.
        Assert.True(result.Succeeded, name);
        Assert.Equal([conflict is null ? "198.51.100.10" : "198.51.100.11"], result.Addresses());
    }

    [Fact]
    public void Restore_AddressHeldByIncompatibleSharer_FailsNamingRuleAndService()
    {
        var allocator = AllocatorWith(Pool("p", "198.51.100.0/24"));
        allocator.Restore(Sharing("ns/a", "k", Http), [Ip("198.51.100.10")]);

        var result = allocator.Restore(Sharing("ns/b", "k", Http), [Ip("198.51.100.10")]);

        Assert.Equal(AllocationFailure.AddressInUse, result.Failure);
        Assert.Equal("address 198.51.100.10 is shared by ns/a with key \"k\": port TCP/80 is used by both", result.Message);
    }

    [Fact]
    public void Allocate_ThirdSharerConflictsWithSecond_IsCheckedAgainstEveryHolder()
    {
        var allocator = AllocatorWith(Pool("p", "198.51.100.10-198.51.100.20"));
        allocator.Allocate(Sharing("ns/a", "k", Http));
        allocator.Allocate(Sharing("ns/b", "k", Https));

        var result = allocator.Allocate(Sharing("ns/c", "k", Https) with { RequestedAddresses = [Ip("198.51.100.10")] });

        Assert.Equal(AllocationFailure.AddressInUse, result.Failure);
        Assert.Equal("address 198.51.100.10 is shared by ns/b with key \"k\": port TCP/443 is used by both", result.Message);
    }

    [Fact]
    public void Allocate_SharedAddressOutsideCandidatePools_IsNotReused()
    {
        var allocator = AllocatorWith(
            Pool("x-only", "198.51.100.10-198.51.100.20") with { ServiceAllocation = Allocation(namespaces: ["x"]) },
            Pool("open", "203.0.113.0/24") with { ServiceAllocation = Allocation(priority: 5) });
        allocator.Allocate(Sharing("x/a", "k", Http));

        var result = allocator.Allocate(Sharing("y/b", "k", Https));

        Assert.Equal(["203.0.113.0"], result.Addresses());
    }

    [Fact]
    public void Allocate_SharedAddressInLaterPool_IsPreferredOverFreeAddressInEarlierPool()
    {
        var allocator = AllocatorWith(
            Pool("a", "10.0.1.0/24") with { ServiceAllocation = Allocation(priority: 1) },
            Pool("b", "10.0.2.0/24") with { ServiceAllocation = Allocation(priority: 2) });
        allocator.Allocate(Sharing("ns/a", "k", Http) with { RequestedPool = "b" });

        var result = allocator.Allocate(Sharing("ns/b", "k", Https));

        Assert.Equal(["10.0.2.0"], result.Addresses());
        Assert.Equal("b", result.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_DualStackSharers_ShareBothAddresses()
    {
        var allocator = AllocatorWith(Pool("dual", "10.0.1.0/24", "2001:db8::/64"));
        var dual = new ServiceRequest { Key = Key("ns/a"), FamilyPolicy = IpFamilyPolicy.RequireDualStack, Families = [IpFamily.IPv4, IpFamily.IPv6] };
        allocator.Allocate(Service("ns/filler"));
        allocator.Allocate(dual with { SharingKey = "k", Ports = [Http] });

        var result = allocator.Allocate(dual with { Key = Key("ns/b"), SharingKey = "k", Ports = [Https] });

        Assert.Equal(["10.0.1.1", "2001:db8::"], result.Addresses());
    }

    [Fact]
    public void Release_OneOfTwoSharers_KeepsAddressHeldUntilLastLeaves()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.1.1-10.0.1.2"));
        allocator.Allocate(Sharing("ns/a", "k", Http));
        allocator.Allocate(Sharing("ns/b", "k", Https));

        allocator.Release(Key("ns/a"));
        Assert.Equal(["10.0.1.2"], allocator.Allocate(Service("ns/c")).Addresses());
        allocator.Release(Key("ns/b"));
        Assert.Equal(["10.0.1.1"], allocator.Allocate(Service("ns/d")).Addresses());
    }

    [Fact]
    public void Allocate_SharerChangesPortsToConflict_MovesToNewAddressOnlyThen()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.1.1-10.0.1.5"));
        allocator.Allocate(Sharing("ns/a", "k", Http));
        allocator.Allocate(Sharing("ns/b", "k", Https));

        var unchanged = allocator.Allocate(Sharing("ns/b", "k", Https, Dns));
        var moved = allocator.Allocate(Sharing("ns/b", "k", Http));

        Assert.Equal(["10.0.1.1"], unchanged.Addresses());
        Assert.Equal(["10.0.1.2"], moved.Addresses());
        Assert.Equal(["10.0.1.1"], allocator.GetAssignment(Key("ns/a")).Addresses());
    }

    [Fact]
    public void Allocate_SharerChangesPortsToConflictWithNoAddressLeft_ReleasesSharedAddress()
    {
        var allocator = AllocatorWith(Pool("p", "198.51.100.1/32"));
        allocator.Allocate(Sharing("ns/a", "k", Http));
        allocator.Allocate(Sharing("ns/b", "k", Https));

        var clash = allocator.Allocate(Sharing("ns/b", "k", Http));

        Assert.False(clash.Succeeded);
        Assert.Equal(AllocationFailure.PoolExhausted, clash.Failure);
        Assert.EndsWith("its previous address was released: address 198.51.100.1 is shared by ns/a with key \"k\": port TCP/80 is used by both", clash.Message);
        Assert.Null(allocator.GetAssignment(Key("ns/b")));
        Assert.Equal(["198.51.100.1"], allocator.GetAssignment(Key("ns/a")).Addresses());
    }

    [Fact]
    public void Allocate_FailedRequestKeepingSharedAddress_HoldsItUnderNewPorts()
    {
        var allocator = AllocatorWith(Pool("p", "198.51.100.1/32"), Pool("full", "203.0.113.1/32"));
        allocator.Allocate(Service("ns/x") with { RequestedPool = "full" });
        allocator.Allocate(Sharing("ns/a", "k", Http));

        // ns/a asks for the exhausted pool and a new port: it keeps its address, under the new port.
        var failed = allocator.Allocate(Sharing("ns/a", "k", Https) with { RequestedPool = "full" });
        var late = allocator.Allocate(Sharing("ns/c", "k", Https));

        Assert.False(failed.Succeeded);
        Assert.Equal(["198.51.100.1"], allocator.GetAssignment(Key("ns/a")).Addresses());
        Assert.False(late.Succeeded);
    }
}
