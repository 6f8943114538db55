using System.Globalization;
using System.Net;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace BareLb.Allocator.Tests;

// Random operation sequences against invariants checked after every step, and fresh single-family allocations
// against ReferenceAllocator. Pools are tiny and overlap on purpose, and straddle a .255/.0 boundary so that
// avoidBuggyIPs is exercised. Set BARELB_ALLOCATOR_SEED to replay another seed.
public sealed class PoolAllocatorPropertyTests(ITestOutputHelper output)
{
    private const int Runs = 300;
    private const ulong DefaultSeed = 0x5EED_BA4E_2025;

    // Pools live in 10.0.0.236-10.0.1.32 and 2001:db8::-2001:db8::30; restored addresses reach a little beyond.
    // Offsets 19 and 20 from V4Base are 10.0.0.255 and 10.0.1.0, which generators pick more often than the rest.
    private static readonly UInt128 V4Base = IpAddressMath.ToUInt128(IPAddress.Parse("10.0.0.236"));
    private static readonly UInt128 V6Base = IpAddressMath.ToUInt128(IPAddress.Parse("2001:db8::"));
    private static readonly string[] PoolNames = ["p0", "p1", "p2", "p3", "p4"];
    private static readonly ServiceKey[] Services =
        [new("a", "s0"), new("a", "s1"), new("a", "s2"), new("a", "s3"), new("b", "s0"), new("b", "s1"), new("b", "s2"), new("b", "s3")];
    private static readonly PortKey[] AllPorts = [new("TCP", 80), new("TCP", 443), new("UDP", 53)];

    [Fact]
    public void RandomOperations_AfterEveryStep_InvariantsHold()
    {
        var stats = new Stats();
        Check.One(Configuration(), Prop.ForAll(Arb.From(OperationsGen), (Op[] ops) => new Scenario(stats).Run(ops)));
        output.WriteLine(stats.ToString());

        // Guard against a generator that never reaches the interesting cases.
        Assert.True(stats.ModelComparisons > 500, stats.ToString());
        Assert.True(stats.SharedAddresses > 50, stats.ToString());
        Assert.True(stats.ChangedAllocations > 100, stats.ToString());
        Assert.True(stats.Failures.Count >= 4, stats.ToString());
    }

    private static Config Configuration()
    {
        var seed = Environment.GetEnvironmentVariable("BARELB_ALLOCATOR_SEED") is { Length: > 0 } text
            ? ulong.Parse(text, CultureInfo.InvariantCulture)
            : DefaultSeed;
        return Config.QuickThrowOnFailure
            .WithMaxTest(Runs)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed), FSharpOption<int>.None)));
    }

    // ---- generators -----------------------------------------------------------------------------------------

    private static Gen<(int Start, int Length)> RangeGen(int maxStart, int maxLength) =>
        from start in Gen.Choose(0, maxStart)
        from length in Gen.Choose(0, maxLength)
        select (start, length);

    private static readonly Gen<PoolSpec> PoolGen =
        from v4 in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Constant(1)), (2, Gen.Constant(2))).SelectMany(n => RangeGen(40, 7).ArrayOf(n))
        from v6 in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Constant(1))).SelectMany(n => RangeGen(40, 5).ArrayOf(n))
        from autoAssign in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from avoidBuggy in Gen.Frequency((1, Gen.Constant(true)), (2, Gen.Constant(false)))
        from hasPolicy in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from priority in Gen.Elements<int?>(null, 0, 1, 2)
        from ns in Gen.Elements<string?>(null, null, "a", "b")
        from nsEnv in Gen.Elements<string?>(null, null, "prod")
        from team in Gen.Elements<string?>(null, null, "x")
        select new PoolSpec(v4, v6, autoAssign, avoidBuggy, hasPolicy ? new PolicySpec(priority, ns, nsEnv, team) : null);

    private static readonly Gen<Op> SetPoolsGen =
        from count in Gen.Choose(1, 4)
        from names in Gen.Shuffle(PoolNames)
        from pools in PoolGen.ArrayOf(count)
        select (Op)new SetPoolsOp([.. pools.Select((p, i) => p with { Name = names[i] })]);

    private static readonly Gen<Op> SetDrainingGen =
        from names in Gen.Elements<string[]>([], ["p0"], ["p1"], ["p2", "p3"])
        select (Op)new SetDrainingOp(names);

    private static readonly Gen<RequestSpec> RequestGen =
        from service in Gen.Choose(0, Services.Length - 1)
        from team in Gen.Elements("x", "y")
        from policy in Gen.Frequency(
            (6, Gen.Constant(IpFamilyPolicy.SingleStack)),
            (2, Gen.Constant(IpFamilyPolicy.PreferDualStack)),
            (2, Gen.Constant(IpFamilyPolicy.RequireDualStack)))
        from v6First in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from requested in Gen.Frequency((1, Gen.Constant(true)), (6, Gen.Constant(false)))
        from requestedV4 in Gen.Frequency((1, Gen.Choose(18, 21)), (3, Gen.Choose(0, 52)))
        from requestedV6 in Gen.Choose(0, 50)
        from pool in Gen.Frequency((1, Gen.Elements<string?>("p0", "p1", "p2", "pz")), (6, Gen.Constant<string?>(null)))
        from sharingKey in Gen.Frequency((1, Gen.Elements<string?>("k1", "k2")), (1, Gen.Constant<string?>(null)))
        from ports in Gen.Choose(0, 7)
        from local in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from selector in Gen.Choose(0, 1)
        select new RequestSpec(
            service, team, policy, v6First,
            requested && (policy != IpFamilyPolicy.SingleStack || !v6First) ? requestedV4 : null,
            requested && (policy != IpFamilyPolicy.SingleStack || v6First) ? requestedV6 : null,
            pool, sharingKey, ports, local, selector);

    private static readonly Gen<Op> AllocateGen = RequestGen.Select(r => (Op)new AllocateOp(r));

    private static readonly Gen<Op> ReleaseGen = Gen.Choose(0, Services.Length - 1).Select(s => (Op)new ReleaseOp(s));

    private static readonly Gen<Op> RestoreGen =
        from request in RequestGen
        from which in Gen.Choose(0, 2)
        from v4 in Gen.Frequency((1, Gen.Choose(22, 25)), (3, Gen.Choose(0, 56)))
        from v6 in Gen.Choose(0, 50)
        select (Op)new RestoreOp(request, which == 1 ? null : v4, which == 0 ? null : v6);

    private static readonly Gen<Op[]> OperationsGen =
        from first in SetPoolsGen
        from length in Gen.Choose(5, 50)
        from rest in Gen.Frequency(
            (12, AllocateGen),
            (3, ReleaseGen),
            (3, RestoreGen),
            (2, SetPoolsGen),
            (1, SetDrainingGen)).ArrayOf(length)
        select (Op[])[first, .. rest];

    // ---- the operations, as plain data so that a failing case prints readably --------------------------------

    internal abstract record Op;

    internal sealed record SetPoolsOp(PoolSpec[] Pools) : Op
    {
        public override string ToString() => $"SetPools[{string.Join("; ", Pools.Select(p => p.ToString()))}]";
    }

    internal sealed record SetDrainingOp(string[] Names) : Op
    {
        public override string ToString() => $"SetDraining[{string.Join(",", Names)}]";
    }

    internal sealed record AllocateOp(RequestSpec Request) : Op;

    internal sealed record ReleaseOp(int Service) : Op;

    internal sealed record RestoreOp(RequestSpec Request, int? V4, int? V6) : Op;

    internal sealed record PolicySpec(int? Priority, string? Namespace, string? NamespaceEnv, string? Team);

    internal sealed record PoolSpec((int Start, int Length)[] V4, (int Start, int Length)[] V6, bool AutoAssign, bool AvoidBuggy, PolicySpec? Policy)
    {
        public string Name { get; init; } = "";

        public PoolDefinition ToDefinition() => new(
            Name,
            [
                .. V4.Select(r => new IpRange(IpFamily.IPv4, V4Base + (UInt128)r.Start, V4Base + (UInt128)(r.Start + r.Length))),
                .. V6.Select(r => new IpRange(IpFamily.IPv6, V6Base + (UInt128)r.Start, V6Base + (UInt128)(r.Start + r.Length))),
            ],
            AutoAssign,
            AvoidBuggy,
            Policy is null
                ? null
                : new ServiceAllocationPolicy(
                    Policy.Priority,
                    Policy.Namespace is { } ns ? [ns] : [],
                    Policy.NamespaceEnv is { } env ? [new LabelMatcher(new Dictionary<string, string> { ["env"] = env }, [])] : [],
                    Policy.Team is { } team ? [new LabelMatcher(new Dictionary<string, string> { ["team"] = team }, [])] : []));

        public override string ToString() =>
            $"{Name}({string.Join(",", ToDefinition().Ranges)} auto={AutoAssign} avoid={AvoidBuggy} policy={Policy})";
    }

    internal sealed record RequestSpec(
        int Service, string Team, IpFamilyPolicy Policy, bool V6First, int? RequestedV4, int? RequestedV6,
        string? Pool, string? SharingKey, int Ports, bool Local, int Selector)
    {
        public ServiceKey Key => Services[Service];

        public ServiceRequest ToRequest() => new()
        {
            Key = Key,
            ServiceLabels = new Dictionary<string, string> { ["team"] = Team },
            NamespaceLabels = new Dictionary<string, string> { ["env"] = Key.Namespace == "a" ? "prod" : "dev" },
            FamilyPolicy = Policy,
            Families = Policy == IpFamilyPolicy.SingleStack
                ? [V6First ? IpFamily.IPv6 : IpFamily.IPv4]
                : V6First ? [IpFamily.IPv6, IpFamily.IPv4] : [IpFamily.IPv4, IpFamily.IPv6],
            RequestedAddresses =
            [
                .. RequestedV4 is { } v4 ? [IpAddressMath.ToAddress(IpFamily.IPv4, V4Base + (UInt128)v4)] : Array.Empty<IPAddress>(),
                .. RequestedV6 is { } v6 ? [IpAddressMath.ToAddress(IpFamily.IPv6, V6Base + (UInt128)v6)] : Array.Empty<IPAddress>(),
            ],
            RequestedPool = Pool,
            SharingKey = SharingKey,
            Ports = [.. AllPorts.Where((_, i) => (Ports & (1 << i)) != 0)],
            ExternalTrafficPolicy = Local ? TrafficPolicy.Local : TrafficPolicy.Cluster,
            Selector = new Dictionary<string, string> { ["app"] = Selector == 0 ? "web" : "db" },
        };
    }

    private sealed class Stats
    {
        public int Steps { get; set; }

        public int ModelComparisons { get; set; }

        public int SharedAddresses { get; set; }

        public int ChangedAllocations { get; set; }

        public Dictionary<AllocationFailure, int> Failures { get; } = [];

        public override string ToString() =>
            $"steps={Steps} modelComparisons={ModelComparisons} sharedAddressSteps={SharedAddresses} " +
            $"changedAllocations={ChangedAllocations} failures={string.Join(",", Failures.Select(f => $"{f.Key}:{f.Value}"))}";
    }

    // ---- one run: the allocator, what the test knows about it, and the invariants --------------------------

    private sealed class Scenario(Stats stats)
    {
        private readonly PoolAllocator _allocator = new();
        private readonly Dictionary<ServiceKey, (RequestSpec Spec, ServiceRequest Request, int PoolsVersion)> _held = [];
        private IReadOnlyList<PoolDefinition> _pools = [];
        private HashSet<string> _draining = [];
        private const int NotValidated = -1;
        private int _poolsVersion;

        public bool Run(Op[] ops)
        {
            for (var step = 0; step < ops.Length; step++)
            {
                var before = Services.ToDictionary(s => s, _allocator.GetAssignment);
                var heldBefore = HeldAddresses(before.Values);
                try
                {
                    var target = Apply(ops[step], before, heldBefore, out var poolsChanged);
                    CheckKnownState();
                    CheckSharing();
                    CheckUntouched(before, target, poolsChanged);
                    CheckRestart();
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"step {step} ({ops[step]}): {e.Message}", e);
                }

                stats.Steps++;
            }

            return true;
        }

        private ServiceKey? Apply(Op op, Dictionary<ServiceKey, Assignment?> before, HashSet<(IpFamily, UInt128)> heldBefore, out bool poolsChanged)
        {
            poolsChanged = false;
            switch (op)
            {
                case SetPoolsOp setPools:
                    _pools = [.. setPools.Pools.Select(p => p.ToDefinition())];
                    _allocator.SetPools(_pools);
                    _poolsVersion++;
                    poolsChanged = true;
                    return null;

                case SetDrainingOp setDraining:
                    _draining = [.. setDraining.Names];
                    _allocator.SetDraining(_draining);
                    _poolsVersion++;
                    poolsChanged = true;
                    return null;

                case ReleaseOp release:
                    var key = Services[release.Service];
                    Assert.Equal(_held.Remove(key), _allocator.Release(key));
                    return key;

                case RestoreOp restore:
                    var restoreRequest = restore.Request.ToRequest();
                    IPAddress[] addresses =
                    [
                        .. restore.V4 is { } v4 ? [IpAddressMath.ToAddress(IpFamily.IPv4, V4Base - 4 + (UInt128)v4)] : Array.Empty<IPAddress>(),
                        .. restore.V6 is { } v6 ? [IpAddressMath.ToAddress(IpFamily.IPv6, V6Base + (UInt128)v6)] : Array.Empty<IPAddress>(),
                    ];
                    var restored = _allocator.Restore(restoreRequest, addresses);
                    Count(restored);
                    if (restored.Succeeded)
                    {
                        Assert.Equal(addresses, restored.Assignment!.Addresses);
                        // Restored addresses need not satisfy the request: only a later Allocate vouches for them.
                        _held[restoreRequest.Key] = (restore.Request, restoreRequest, NotValidated);
                    }
                    else
                    {
                        Assert.Equal(AllocationFailure.AddressInUse, restored.Failure);
                    }

                    return restoreRequest.Key;

                case AllocateOp allocate:
                    ApplyAllocate(allocate.Request, before, heldBefore);
                    return allocate.Request.Key;

                default:
                    throw new InvalidOperationException($"unknown op {op}");
            }
        }

        private void ApplyAllocate(RequestSpec spec, Dictionary<ServiceKey, Assignment?> before, HashSet<(IpFamily, UInt128)> heldBefore)
        {
            var request = spec.ToRequest();
            var previous = before[request.Key];
            var result = _allocator.Allocate(request);
            Count(result);
            Assert.Equal(result.Succeeded, result.Assignment is not null);

            if (_held.TryGetValue(request.Key, out var last) && last.Spec == spec && last.PoolsVersion == _poolsVersion)
            {
                // Same request, same pools as the last successful Allocate: nothing may move.
                Assert.True(result.Succeeded, result.Message);
                Assert.Equal(previous!.Addresses, result.Assignment!.Addresses);
            }

            if (!result.Succeeded)
            {
                Assert.NotNull(result.Message);
                var now = _allocator.GetAssignment(request.Key);
                if (now is null && previous is not null)
                {
                    // Kept addresses would now clash with a co-holder under the new sharing terms: released.
                    Assert.Contains("its previous address was released", result.Message);
                    _held.Remove(request.Key);
                }
                else
                {
                    Assert.Equal(Describe(previous), Describe(now));
                    if (_held.TryGetValue(request.Key, out var kept))
                    {
                        // What is kept is held under the service's new sharing terms.
                        _held[request.Key] = kept with
                        {
                            Request = kept.Request with
                            {
                                SharingKey = request.SharingKey,
                                Ports = request.Ports,
                                ExternalTrafficPolicy = request.ExternalTrafficPolicy,
                                Selector = request.Selector,
                            },
                        };
                    }
                }
            }
            else
            {
                var changed = previous is null || !previous.Addresses.SequenceEqual(result.Assignment!.Addresses);
                if (changed)
                {
                    stats.ChangedAllocations++;
                    CheckNewAssignment(request, result.Assignment!);
                }

                _held[request.Key] = (spec, request, _poolsVersion);
            }

            if (previous is null && request.FamilyPolicy == IpFamilyPolicy.SingleStack
                && request.SharingKey is null && request.RequestedAddresses.Count == 0)
            {
                var (failure, pool, address) = ReferenceAllocator.FirstFree(_pools, _draining, request, heldBefore);
                Assert.Equal(failure, result.Failure);
                if (address is { } expected)
                {
                    Assert.Equal(pool, result.Assignment!.Pool);
                    Assert.Equal(expected, IpAddressMath.ToUInt128(result.Assignment.Addresses.Single()));
                }

                stats.ModelComparisons++;
            }
        }

        // Invariant 2: a new or changed assignment comes from a live pool that admits the service and honours
        // the requested pool, the requested addresses, the family policy and avoidBuggyIPs.
        private void CheckNewAssignment(ServiceRequest request, Assignment assignment)
        {
            Assert.NotNull(assignment.Pool);
            var pool = _pools.Single(p => p.Name == assignment.Pool);
            Assert.DoesNotContain(pool.Name, _draining);
            Assert.True(ReferenceAllocator.Admits(pool, request), $"pool {pool.Name} does not admit {request.Key}");
            Assert.True(pool.AutoAssign || request.RequestedPool is not null || request.RequestedAddresses.Count > 0);
            if (request.RequestedPool is { } requestedPool)
            {
                Assert.Equal(requestedPool, pool.Name);
            }

            if (request.RequestedAddresses.Count > 0)
            {
                Assert.Equal(request.RequestedAddresses.OrderBy(a => a.AddressFamily), assignment.Addresses.OrderBy(a => a.AddressFamily));
            }
            else
            {
                var families = assignment.Addresses.Select(IpAddressMath.FamilyOf).ToArray();
                var expected = request.FamilyPolicy switch
                {
                    IpFamilyPolicy.SingleStack => [request.Families[0]],
                    IpFamilyPolicy.RequireDualStack => request.Families,
                    _ => families.Length == 2 ? request.Families : [request.Families[0]],
                };
                Assert.Equal(expected, families);
            }

            foreach (var address in assignment.Addresses)
            {
                Assert.True(pool.Ranges.Any(r => r.Contains(address)), $"{address} is not in pool {pool.Name}");
                var value = IpAddressMath.ToUInt128(address);
                Assert.False(
                    pool.AvoidBuggyIPs && IpAddressMath.IsBuggy(IpAddressMath.FamilyOf(address), value),
                    $"{address} is buggy but pool {pool.Name} avoids buggy IPs");
            }
        }

        private void CheckKnownState()
        {
            foreach (var service in Services)
            {
                Assert.Equal(_held.ContainsKey(service), _allocator.GetAssignment(service) is not null);
            }
        }

        // Invariant 1: an address with several holders is shared under one key by pairwise compatible services.
        private void CheckSharing()
        {
            var holders = _held.Keys
                .SelectMany(k => _allocator.GetAssignment(k)!.Addresses.Select(a => (Address: a, Key: k)))
                .GroupBy(h => h.Address, h => h.Key)
                .Where(g => g.Count() > 1);
            foreach (var group in holders)
            {
                stats.SharedAddresses++;
                var requests = group.Select(k => _held[k].Request).ToArray();
                for (var i = 0; i < requests.Length; i++)
                {
                    for (var j = i + 1; j < requests.Length; j++)
                    {
                        var (a, b) = (requests[i], requests[j]);
                        var why = $"{group.Key} held by {a.Key} and {b.Key}";
                        Assert.True(a.SharingKey is not null && a.SharingKey == b.SharingKey, why);
                        Assert.False(a.Ports.Intersect(b.Ports).Any(), why);
                        Assert.Equal(a.ExternalTrafficPolicy, b.ExternalTrafficPolicy);
                        if (a.ExternalTrafficPolicy == TrafficPolicy.Local)
                        {
                            Assert.Equal(a.Selector!["app"], b.Selector!["app"]);
                        }
                    }
                }
            }
        }

        // Invariant 3: only the operated-on service's assignment may change; pool changes relabel but never move.
        private void CheckUntouched(Dictionary<ServiceKey, Assignment?> before, ServiceKey? target, bool poolsChanged)
        {
            foreach (var (service, previous) in before)
            {
                if (service == target)
                {
                    continue;
                }

                var now = _allocator.GetAssignment(service);
                if (poolsChanged)
                {
                    Assert.Equal(previous?.Addresses, now?.Addresses);
                }
                else
                {
                    Assert.Equal(Describe(previous), Describe(now));
                }
            }
        }

        // Invariant 4: a restarted controller that restores every assignment gets the same state back.
        private void CheckRestart()
        {
            var fresh = new PoolAllocator();
            fresh.SetPools(_pools);
            fresh.SetDraining(_draining);
            foreach (var service in _held.Keys.OrderBy(k => k.ToString(), StringComparer.Ordinal))
            {
                var restored = fresh.Restore(_held[service].Request, _allocator.GetAssignment(service)!.Addresses);
                Assert.True(restored.Succeeded, $"restart: {restored.Message}");
            }

            foreach (var service in Services)
            {
                Assert.Equal(Describe(_allocator.GetAssignment(service)), Describe(fresh.GetAssignment(service)));
            }

            foreach (var pool in _pools)
            {
                Assert.Equal(_allocator.GetUsage(pool.Name), fresh.GetUsage(pool.Name));
                Assert.Equal(
                    _allocator.HoldersOf(pool.Name).Select(Describe),
                    fresh.HoldersOf(pool.Name).Select(Describe));
            }

            Assert.Equal(_allocator.Misplaced().Select(Describe), fresh.Misplaced().Select(Describe));

            // After the restart the controller allocates every Service again: what Allocate had vouched for stays.
            foreach (var (service, (_, request, poolsVersion)) in _held.OrderBy(h => h.Key.ToString(), StringComparer.Ordinal))
            {
                if (poolsVersion == _poolsVersion)
                {
                    var again = fresh.Allocate(request);
                    Assert.True(again.Succeeded, $"restart re-allocation: {again.Message}");
                    Assert.Equal(Describe(_allocator.GetAssignment(service)), Describe(again.Assignment));
                }
            }
        }

        private void Count(AllocationResult result) =>
            stats.Failures[result.Failure] = stats.Failures.GetValueOrDefault(result.Failure) + 1;

        private static HashSet<(IpFamily, UInt128)> HeldAddresses(IEnumerable<Assignment?> assignments) =>
        [
            .. assignments
                .Where(a => a is not null)
                .SelectMany(a => a!.Addresses)
                .Select(a => (IpAddressMath.FamilyOf(a), IpAddressMath.ToUInt128(a))),
        ];

        private static string Describe(Assignment? assignment) =>
            assignment is null ? "-" : $"{assignment.Service}@{assignment.Pool ?? "(none)"}:{string.Join(",", assignment.Addresses)}";
    }
}
