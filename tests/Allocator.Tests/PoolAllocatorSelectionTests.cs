using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

public sealed class PoolAllocatorSelectionTests
{
    // ---- requested addresses -------------------------------------------------------------------------------

    [Fact]
    public void Allocate_RequestedAddressInPool_GetsExactlyThatAddress()
    {
        var allocator = AllocatorWith(Pool("web", "198.51.100.0/24"));

        var result = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("198.51.100.42")] });

        Assert.Equal(["198.51.100.42"], result.Addresses());
        Assert.Equal("web", result.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_RequestedAddressInAutoAssignFalsePool_IsAllowed()
    {
        var allocator = AllocatorWith(Pool("reserved", "198.51.100.0/24") with { AutoAssign = false });

        var result = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("198.51.100.5")] });

        Assert.Equal(["198.51.100.5"], result.Addresses());
        Assert.Equal("reserved", result.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_RequestedAddressOutsideEveryPool_FailsNamingTheAddress()
    {
        var allocator = AllocatorWith(Pool("web", "198.51.100.0/24"));

        var result = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("203.0.113.9")] });

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("requested address 203.0.113.9 is not in a pool that admits ns/a", result.Message);
        Assert.Null(allocator.GetAssignment(Key("ns/a")));
    }

    [Fact]
    public void Allocate_RequestedAddressInPoolNotAdmittingService_FailsWithNoCompatiblePool()
    {
        var allocator = AllocatorWith(
            Pool("team-b", "198.51.100.0/24") with { ServiceAllocation = Allocation(namespaces: ["b"]) });

        var result = allocator.Allocate(Service("a/svc") with { RequestedAddresses = [Ip("198.51.100.9")] });

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("requested address 198.51.100.9 is not in a pool that admits a/svc", result.Message);
    }

    [Fact]
    public void Allocate_RequestedAddressHeldByOtherService_FailsNamingThatService()
    {
        var allocator = AllocatorWith(Pool("web", "198.51.100.0/24"));
        allocator.Allocate(Service("ns/first") with { RequestedAddresses = [Ip("198.51.100.7")] });

        var result = allocator.Allocate(Service("ns/second") with { RequestedAddresses = [Ip("198.51.100.7")] });

        Assert.Equal(AllocationFailure.AddressInUse, result.Failure);
        Assert.Equal("address 198.51.100.7 is in use by ns/first", result.Message);
    }

    [Theory]
    [InlineData("198.51.100.1", "198.51.100.2", "requested addresses 198.51.100.1 and 198.51.100.2 are both IPv4; at most one address per family")]
    [InlineData("2001:db8::1", "2001:db8::2", "requested addresses 2001:db8::1 and 2001:db8::2 are both IPv6; at most one address per family")]
    public void Allocate_TwoRequestedAddressesOfOneFamily_IsInvalidRequest(string first, string second, string message)
    {
        var allocator = AllocatorWith(Pool("dual", "198.51.100.0/24", "2001:db8::/64"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.RequireDualStack,
            Families = [IpFamily.IPv4, IpFamily.IPv6],
            RequestedAddresses = [Ip(first), Ip(second)],
        });

        Assert.Equal(AllocationFailure.InvalidRequest, result.Failure);
        Assert.Equal(message, result.Message);
    }

    [Theory]
    [InlineData("198.51.100.0")]
    [InlineData("198.51.100.255")]
    public void Allocate_RequestedBuggyAddressInAvoidBuggyPool_IsInvalidRequest(string address)
    {
        var allocator = AllocatorWith(Pool("web", "198.51.100.0/24") with { AvoidBuggyIPs = true });

        var result = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip(address)] });

        Assert.Equal(AllocationFailure.InvalidRequest, result.Failure);
        Assert.Equal($"requested address {address} ends in .0 or .255, which pool web does not hand out (avoidBuggyIPs)", result.Message);
    }

    [Fact]
    public void Allocate_DualStackRequestWithBuggyIPv4InAvoidBuggyPool_NamesOnlyTheBuggyAddress()
    {
        var allocator = AllocatorWith(Pool("dual", "198.51.100.0/24", "2001:db8::/64") with { AvoidBuggyIPs = true });

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.RequireDualStack,
            Families = [IpFamily.IPv6, IpFamily.IPv4],
            RequestedAddresses = [Ip("198.51.100.255"), Ip("2001:db8::ff")],
        });

        Assert.Equal(AllocationFailure.InvalidRequest, result.Failure);
        Assert.Equal("requested address 198.51.100.255 ends in .0 or .255, which pool dual does not hand out (avoidBuggyIPs)", result.Message);
    }

    [Fact]
    public void Allocate_RequestedBuggyAddressAlsoInPlainPool_ComesFromPlainPool()
    {
        var allocator = AllocatorWith(
            Pool("a-careful", "198.51.100.0/24") with { AvoidBuggyIPs = true },
            Pool("b-plain", "198.51.100.0/25"));

        var result = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("198.51.100.0")] });

        Assert.Equal(["198.51.100.0"], result.Addresses());
        Assert.Equal("b-plain", result.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_DualStackRequestedAddressesInDifferentPools_FailsWithNoCompatiblePool()
    {
        var allocator = AllocatorWith(Pool("v4", "198.51.100.0/24"), Pool("v6", "2001:db8::/64"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.RequireDualStack,
            Families = [IpFamily.IPv4, IpFamily.IPv6],
            RequestedAddresses = [Ip("2001:db8::5"), Ip("198.51.100.5")],
        });

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("requested addresses 198.51.100.5 and 2001:db8::5 are not both in a pool that admits ns/a", result.Message);
    }

    [Fact]
    public void Allocate_DualStackRequestedAddressesInOnePool_AreOrderedByFamilies()
    {
        var allocator = AllocatorWith(Pool("dual", "198.51.100.0/24", "2001:db8::/64"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.RequireDualStack,
            Families = [IpFamily.IPv6, IpFamily.IPv4],
            RequestedAddresses = [Ip("198.51.100.5"), Ip("2001:db8::5")],
        });

        Assert.Equal(["2001:db8::5", "198.51.100.5"], result.Addresses());
    }

    [Theory]
    [InlineData(IpFamilyPolicy.SingleStack, new[] { "2001:db8::1" }, "requested address 2001:db8::1 is IPv6, but the service's ipFamilies (SingleStack) allow only IPv4")]
    [InlineData(IpFamilyPolicy.RequireDualStack, new[] { "198.51.100.1" }, "ipFamilyPolicy RequireDualStack needs a requested address of each family, got only one")]
    [InlineData(IpFamilyPolicy.SingleStack, new[] { "::ffff:198.51.100.1" }, "requested address ::ffff:198.51.100.1 is an IPv4-mapped IPv6 address; use 198.51.100.1")]
    public void Allocate_RequestedAddressesNotMatchingPolicy_IsInvalidRequest(IpFamilyPolicy policy, string[] requested, string message)
    {
        var allocator = AllocatorWith(Pool("dual", "198.51.100.0/24", "2001:db8::/64"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = policy,
            Families = policy == IpFamilyPolicy.SingleStack ? [IpFamily.IPv4] : [IpFamily.IPv4, IpFamily.IPv6],
            RequestedAddresses = [.. requested.Select(Ip)],
        });

        Assert.Equal(AllocationFailure.InvalidRequest, result.Failure);
        Assert.Equal(message, result.Message);
    }

    public static TheoryData<string, ServiceRequest, string> InvalidRequests => new()
    {
        { "no families", Service("ns/a") with { Families = [] }, "ipFamilies is empty" },
        { "family twice", Service("ns/a") with { Families = [IpFamily.IPv4, IpFamily.IPv4], FamilyPolicy = IpFamilyPolicy.PreferDualStack }, "ipFamilies lists IPv4 twice" },
        { "require dual with one family", Service("ns/a") with { FamilyPolicy = IpFamilyPolicy.RequireDualStack }, "ipFamilyPolicy RequireDualStack needs both IPv4 and IPv6 in ipFamilies" },
        { "empty sharing key", Service("ns/a") with { SharingKey = "" }, "sharing key is empty" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public void Allocate_MalformedRequest_IsInvalidRequestNamingTheField(string name, ServiceRequest request, string message)
    {
        var allocator = AllocatorWith(Pool("dual", "198.51.100.0/24", "2001:db8::/64"));

        var result = allocator.Allocate(request);

        Assert.True(AllocationFailure.InvalidRequest == result.Failure, name);
        Assert.Equal(message, result.Message);
    }

    // ---- requested pool ------------------------------------------------------------------------------------

    [Fact]
    public void Allocate_RequestedPoolWithAutoAssignFalse_AllocatesFromIt()
    {
        var allocator = AllocatorWith(
            Pool("auto", "198.51.100.0/24"),
            Pool("manual", "203.0.113.0/24") with { AutoAssign = false });

        var result = allocator.Allocate(Service("ns/a") with { RequestedPool = "manual" });

        Assert.Equal(["203.0.113.0"], result.Addresses());
        Assert.Equal("manual", result.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_UnknownRequestedPool_FailsSayingItDoesNotExist()
    {
        var allocator = AllocatorWith(Pool("auto", "198.51.100.0/24"));

        var result = allocator.Allocate(Service("ns/a") with { RequestedPool = "missing" });

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("pool missing does not exist", result.Message);
    }

    [Fact]
    public void Allocate_RequestedPoolNotAdmittingService_FailsWithNoCompatiblePool()
    {
        var allocator = AllocatorWith(
            Pool("team-b", "198.51.100.0/24") with { ServiceAllocation = Allocation(namespaces: ["b"]) });

        var result = allocator.Allocate(Service("a/svc") with { RequestedPool = "team-b" });

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("pool team-b does not admit a/svc (serviceAllocation)", result.Message);
    }

    [Fact]
    public void Allocate_RequestedPoolLacksFamily_FailsWithNoCompatiblePool()
    {
        var allocator = AllocatorWith(Pool("v4", "198.51.100.0/24"));

        var result = allocator.Allocate(Service("ns/a") with { RequestedPool = "v4", Families = [IpFamily.IPv6] });

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("no pool that admits ns/a has IPv6 addresses (candidates: v4)", result.Message);
    }

    [Fact]
    public void Allocate_RequestedAddressAndPool_AddressMustBeInThatPool()
    {
        var allocator = AllocatorWith(Pool("a", "198.51.100.0/24"), Pool("b", "203.0.113.0/24"));

        var result = allocator.Allocate(Service("ns/s") with { RequestedPool = "b", RequestedAddresses = [Ip("198.51.100.3")] });

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("requested address 198.51.100.3 is not in pool b", result.Message);
    }

    // ---- automatic selection order -------------------------------------------------------------------------

    public static TheoryData<string, PoolDefinition[], ServiceRequest, string[]> OrderCases => new()
    {
        {
            "no priorities: name order (ordinal)",
            [Pool("b", "10.0.2.0/24"), Pool("B", "10.0.3.0/24"), Pool("a", "10.0.1.0/24")],
            Service("ns/s"),
            ["B", "a", "b"]
        },
        {
            "lower priority first, unset last, then name",
            [
                Pool("z", "10.0.1.0/24") with { ServiceAllocation = Allocation(priority: 1) },
                Pool("y", "10.0.2.0/24") with { ServiceAllocation = Allocation(priority: 5) },
                Pool("a", "10.0.3.0/24"),
                Pool("x", "10.0.4.0/24") with { ServiceAllocation = Allocation(priority: 5) },
                Pool("m", "10.0.5.0/24") with { ServiceAllocation = Allocation(priority: -3) },
            ],
            Service("ns/s"),
            ["m", "z", "x", "y", "a"]
        },
        {
            "autoAssign false skipped",
            [Pool("a", "10.0.1.0/24") with { AutoAssign = false }, Pool("b", "10.0.2.0/24")],
            Service("ns/s"),
            ["b"]
        },
        {
            "namespaces restrict",
            [
                Pool("mine", "10.0.1.0/24") with { ServiceAllocation = Allocation(priority: 1, namespaces: ["ns"]) },
                Pool("theirs", "10.0.2.0/24") with { ServiceAllocation = Allocation(priority: 1, namespaces: ["other"]) },
                Pool("open", "10.0.3.0/24"),
            ],
            Service("ns/s"),
            ["mine", "open"]
        },
        {
            "namespace selectors: any matches",
            [
                Pool("prod", "10.0.1.0/24") with { ServiceAllocation = Allocation(namespaceSelectors: [Labels(("env", "dev")), Labels(("env", "prod"))]) },
                Pool("dev", "10.0.2.0/24") with { ServiceAllocation = Allocation(namespaceSelectors: [Labels(("env", "dev"))]) },
            ],
            Service("ns/s") with { NamespaceLabels = Dict(("env", "prod")) },
            ["prod"]
        },
        {
            "service selectors",
            [
                Pool("web", "10.0.1.0/24") with { ServiceAllocation = Allocation(serviceSelectors: [Labels(("app", "web"))]) },
                Pool("db", "10.0.2.0/24") with { ServiceAllocation = Allocation(serviceSelectors: [Labels(("app", "db"))]) },
            ],
            Service("ns/s") with { ServiceLabels = Dict(("app", "web")) },
            ["web"]
        },
        {
            "every set list must match",
            [
                Pool("both", "10.0.1.0/24") with { ServiceAllocation = Allocation(namespaces: ["ns"], serviceSelectors: [Labels(("app", "web"))]) },
                Pool("wrong-ns", "10.0.2.0/24") with { ServiceAllocation = Allocation(namespaces: ["x"], serviceSelectors: [Labels(("app", "web"))]) },
                Pool("wrong-app", "10.0.3.0/24") with { ServiceAllocation = Allocation(namespaces: ["ns"], serviceSelectors: [Labels(("app", "db"))]) },
            ],
            Service("ns/s") with { ServiceLabels = Dict(("app", "web")) },
            ["both"]
        },
        {
            "serviceAllocation with only a priority admits everyone",
            [Pool("p", "10.0.1.0/24") with { ServiceAllocation = Allocation(priority: 2) }],
            Service("ns/s"),
            ["p"]
        },
        {
            "pinned pool without priority before open pools, even a prioritized open one",
            [
                Pool("a-open", "10.0.1.0/24"),
                Pool("b-open-prio", "10.0.2.0/24") with { ServiceAllocation = Allocation(priority: 1) },
                Pool("z-pinned", "10.0.3.0/24") with { ServiceAllocation = Allocation(namespaces: ["ns"]) },
            ],
            Service("ns/s"),
            ["z-pinned", "b-open-prio", "a-open"]
        },
        {
            "pinned pools among themselves by priority then name",
            [
                Pool("p-none", "10.0.1.0/24") with { ServiceAllocation = Allocation(namespaces: ["ns"]) },
                Pool("p-5", "10.0.2.0/24") with { ServiceAllocation = Allocation(priority: 5, namespaces: ["ns"]) },
                Pool("p-1", "10.0.3.0/24") with { ServiceAllocation = Allocation(priority: 1, serviceSelectors: [Labels(("app", "web"))]) },
            ],
            Service("ns/s") with { ServiceLabels = Dict(("app", "web")) },
            ["p-1", "p-5", "p-none"]
        },
    };

    [Theory]
    [MemberData(nameof(OrderCases))]
    public void CandidatePools_Request_FollowsPriorityThenName(string name, PoolDefinition[] pools, ServiceRequest request, string[] expected)
    {
        var allocator = AllocatorWith(pools);

        Assert.True(expected.SequenceEqual(allocator.CandidatePools(request)), $"{name}: {string.Join(",", allocator.CandidatePools(request))}");
        var result = allocator.Allocate(request);
        Assert.Equal(expected[0], result.Assignment?.Pool);
    }

    [Fact]
    public void Allocate_FirstPoolFull_SpillsToNextInOrder()
    {
        var allocator = AllocatorWith(
            Pool("a", "10.0.1.1-10.0.1.2") with { ServiceAllocation = Allocation(priority: 1) },
            Pool("b", "10.0.2.1-10.0.2.2"));

        var addresses = Enumerable.Range(0, 4).Select(i => allocator.Allocate(Service($"ns/s{i}")).Addresses().Single()).ToArray();

        Assert.Equal(["10.0.1.1", "10.0.1.2", "10.0.2.1", "10.0.2.2"], addresses);
        Assert.Equal("b", allocator.GetAssignment(Key("ns/s3"))!.Pool);
    }

    [Fact]
    public void Allocate_NoPoolAdmitsService_FailsWithNoCompatiblePool()
    {
        var allocator = AllocatorWith(Pool("other", "10.0.1.0/24") with { ServiceAllocation = Allocation(namespaces: ["x"]) });

        var result = allocator.Allocate(Service("ns/s"));

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("no auto-assign pool admits ns/s", result.Message);
    }

    [Fact]
    public void Allocate_PoolRangesInWrittenOrder_HandsOutFromFirstWrittenRangeFirst()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.9.1-10.0.9.2", "10.0.1.1-10.0.1.2"));

        var addresses = Enumerable.Range(0, 3).Select(i => allocator.Allocate(Service($"ns/s{i}")).Addresses().Single());

        Assert.Equal(["10.0.9.1", "10.0.9.2", "10.0.1.1"], addresses);
    }

    // ---- families ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(IpFamily.IPv4, "198.51.100.0")]
    [InlineData(IpFamily.IPv6, "2001:db8::")]
    public void Allocate_SingleStack_UsesPrimaryFamily(IpFamily family, string expected)
    {
        var allocator = AllocatorWith(Pool("dual", "198.51.100.0/24", "2001:db8::/64"));

        var result = allocator.Allocate(Service("ns/a") with { Families = [family] });

        Assert.Equal([expected], result.Addresses());
    }

    [Fact]
    public void Allocate_SingleStackWithTwoFamilies_UsesOnlyFamiliesZero()
    {
        var allocator = AllocatorWith(Pool("dual", "198.51.100.0/24", "2001:db8::/64"));

        var result = allocator.Allocate(Service("ns/a") with { Families = [IpFamily.IPv6, IpFamily.IPv4] });

        Assert.Equal(["2001:db8::"], result.Addresses());
    }

    [Fact]
    public void Allocate_PreferDualStack_TakesBothFromFirstPoolThatHasBoth()
    {
        var allocator = AllocatorWith(Pool("a-v4", "10.0.1.0/24"), Pool("b-dual", "10.0.2.0/24", "2001:db8::/64"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.PreferDualStack,
            Families = [IpFamily.IPv4, IpFamily.IPv6],
        });

        Assert.Equal(["10.0.2.0", "2001:db8::"], result.Addresses());
        Assert.Equal("b-dual", result.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_PreferDualStackNoPoolHasBoth_FallsBackToPrimaryFromFirstPool()
    {
        var allocator = AllocatorWith(Pool("a-v6", "2001:db8::/64"), Pool("b-v4", "10.0.2.0/24"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.PreferDualStack,
            Families = [IpFamily.IPv4, IpFamily.IPv6],
        });

        Assert.Equal(["10.0.2.0"], result.Addresses());
        Assert.Equal("b-v4", result.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_PreferDualStackDualPoolExhaustedInOneFamily_FallsBackToPrimary()
    {
        var allocator = AllocatorWith(Pool("dual", "10.0.2.1/32", "2001:db8::1/128"));
        allocator.Allocate(Service("ns/taken") with { Families = [IpFamily.IPv6] });

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.PreferDualStack,
            Families = [IpFamily.IPv4, IpFamily.IPv6],
        });

        Assert.Equal(["10.0.2.1"], result.Addresses());
    }

    [Fact]
    public void Allocate_RequireDualStack_BothFamiliesFromOnePool()
    {
        var allocator = AllocatorWith(Pool("a-v4", "10.0.1.0/24"), Pool("b-v6", "2001:db8::/64"), Pool("c-dual", "10.0.3.0/24", "2001:db8:1::/64"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.RequireDualStack,
            Families = [IpFamily.IPv6, IpFamily.IPv4],
        });

        Assert.Equal(["2001:db8:1::", "10.0.3.0"], result.Addresses());
        Assert.Equal("c-dual", result.Assignment!.Pool);
    }

    [Fact]
    public void Allocate_RequireDualStackNoPoolHasBoth_FailsWithNoCompatiblePool()
    {
        var allocator = AllocatorWith(Pool("a-v4", "10.0.1.0/24"), Pool("b-v6", "2001:db8::/64"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.RequireDualStack,
            Families = [IpFamily.IPv4, IpFamily.IPv6],
        });

        Assert.Equal(AllocationFailure.NoCompatiblePool, result.Failure);
        Assert.Equal("no pool that admits ns/a has IPv4 and IPv6 addresses (candidates: a-v4, b-v6)", result.Message);
    }

    [Fact]
    public void Allocate_RequireDualStackOneFamilyExhausted_FailsWithPoolExhausted()
    {
        var allocator = AllocatorWith(Pool("dual", "10.0.2.1/32", "2001:db8::/64"));
        allocator.Allocate(Service("ns/taken"));

        var result = allocator.Allocate(Service("ns/a") with
        {
            FamilyPolicy = IpFamilyPolicy.RequireDualStack,
            Families = [IpFamily.IPv4, IpFamily.IPv6],
        });

        Assert.Equal(AllocationFailure.PoolExhausted, result.Failure);
        Assert.Equal("no free IPv4 and IPv6 address in pool dual", result.Message);
    }

    // ---- avoidBuggyIPs and exhaustion -----------------------------------------------------------------------

    [Theory]
    [InlineData("10.0.0.254-10.0.2.2", new[] { "10.0.0.254", "10.0.1.1", "10.0.1.2" })]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.1", "10.0.0.2", "10.0.0.3" })]
    [InlineData("10.0.0.255-10.0.1.3", new[] { "10.0.1.1", "10.0.1.2", "10.0.1.3" })]
    public void Allocate_AvoidBuggyIPs_SkipsDotZeroAndDot255(string range, string[] expected)
    {
        var allocator = AllocatorWith(Pool("p", range) with { AvoidBuggyIPs = true });

        var addresses = expected.Select((_, i) => allocator.Allocate(Service($"ns/s{i}")).Addresses().Single());

        Assert.Equal(expected, addresses);
    }

    [Fact]
    public void Allocate_AvoidBuggyAcrossManyBoundaries_SkipsEveryPairAndExhaustsExactly()
    {
        // 10.0.0.0/22 has 1024 addresses, 8 of them end in .0 or .255.
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/22") with { AvoidBuggyIPs = true });
        var handedOut = new List<string>();
        for (var i = 0; i < 1016; i++)
        {
            handedOut.Add(allocator.Allocate(Service($"ns/s{i}")).Addresses().Single());
        }

        var exhausted = allocator.Allocate(Service("ns/one-more"));

        Assert.DoesNotContain(handedOut, a => a.EndsWith(".0", StringComparison.Ordinal) || a.EndsWith(".255", StringComparison.Ordinal));
        Assert.Equal(1016, handedOut.Distinct().Count());
        Assert.Equal(AllocationFailure.PoolExhausted, exhausted.Failure);
    }

    [Fact]
    public void Allocate_AvoidBuggyIPsOnIPv6_HasNoEffect()
    {
        var allocator = AllocatorWith(Pool("p", "2001:db8::/120") with { AvoidBuggyIPs = true });

        Assert.Equal(["2001:db8::"], allocator.Allocate(Service("ns/a") with { Families = [IpFamily.IPv6] }).Addresses());
    }

    [Fact]
    public void Allocate_AllPoolsFull_FailsWithPoolExhaustedListingPools()
    {
        var allocator = AllocatorWith(Pool("a", "10.0.1.1/32"), Pool("b", "10.0.2.1/32"));
        allocator.Allocate(Service("ns/s1"));
        allocator.Allocate(Service("ns/s2"));

        var result = allocator.Allocate(Service("ns/s3"));

        Assert.Equal(AllocationFailure.PoolExhausted, result.Failure);
        Assert.Equal("no free IPv4 address in pools a, b", result.Message);
        Assert.Null(result.Assignment);
    }

    [Fact]
    public void Allocate_AfterReleases_ReusesLowestFreeAddress()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        for (var i = 0; i < 10; i++)
        {
            allocator.Allocate(Service($"ns/s{i}"));
        }

        allocator.Release(Key("ns/s7"));
        allocator.Release(Key("ns/s3"));
        allocator.Release(Key("ns/s5"));

        Assert.Equal(["10.0.0.3"], allocator.Allocate(Service("ns/new1")).Addresses());
        Assert.Equal(["10.0.0.5"], allocator.Allocate(Service("ns/new2")).Addresses());
        Assert.Equal(["10.0.0.7"], allocator.Allocate(Service("ns/new3")).Addresses());
        Assert.Equal(["10.0.0.10"], allocator.Allocate(Service("ns/new4")).Addresses());
    }

    [Fact]
    public void Allocate_OverlappingPools_NeverHandOutAnAddressTwice()
    {
        var allocator = AllocatorWith(
            Pool("a", "10.0.0.0-10.0.0.3") with { ServiceAllocation = Allocation(priority: 1, namespaces: ["x"]) },
            Pool("b", "10.0.0.2-10.0.0.5") with { ServiceAllocation = Allocation(priority: 1, namespaces: ["y"]) });

        var x = Enumerable.Range(0, 4).Select(i => allocator.Allocate(Service($"x/s{i}")).Addresses().Single()).ToArray();
        var y = Enumerable.Range(0, 2).Select(i => allocator.Allocate(Service($"y/s{i}")).Addresses().Single()).ToArray();

        Assert.Equal(["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"], x);
        Assert.Equal(["10.0.0.4", "10.0.0.5"], y);
        Assert.Equal(AllocationFailure.PoolExhausted, allocator.Allocate(Service("y/s2")).Failure);
    }
}
