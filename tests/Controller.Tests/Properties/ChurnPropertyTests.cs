using BareLb.Kubernetes;
using System.Globalization;
using System.Net;
using BareLb.Allocator;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Pools;
using BareLb.Controller.Services;
using k8s;
using k8s.Models;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace BareLb.Controller.Tests.Properties;

/// <summary>
/// Random churn of IPAddressPools and Services driven through the controller's own reconcilers (the same calls
/// the main loop makes, with Service status kept in a model instead of an API server), checking after every step:
/// no address is shown by two Services unless sharing allows it; every newly shown address lies in a pool the
/// Service may use; a Service's address changes only when its own request changed or its pool stopped offering
/// it; and a restart (fresh allocator, restored from status) changes nothing.
/// </summary>
public sealed class ChurnPropertyTests(ITestOutputHelper output)
{
    private const ulong Seed = 0xBA4E_1B_C0DE;
    private static readonly string[] PoolNames = ["p0", "p1", "p2"];
    private static readonly string[] ServiceNames = ["s0", "s1", "s2", "s3", "s4", "s5"];

    private abstract record Op;
    private sealed record PutPool(int Pool, int First, int Length, bool V6, bool AutoAssign, bool Invalid) : Op;
    private sealed record DeletePool(int Pool) : Op;
    private sealed record PutService(int Service, string? RequestedPool, string? SharingKey, int Port, bool DualStack, bool LoadBalancer) : Op;
    private sealed record DeleteService(int Service) : Op;
    private sealed record Restart : Op;

    private static readonly Gen<Op> PutPoolGen =
        from pool in Gen.Choose(0, PoolNames.Length - 1)
        from first in Gen.Choose(0, 12)
        from length in Gen.Choose(1, 6)
        from v6 in Gen.Elements(true, false)
        from autoAssign in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from invalid in Gen.Frequency((1, Gen.Constant(true)), (5, Gen.Constant(false)))
        select (Op)new PutPool(pool, first, length, v6, autoAssign, invalid);

    private static readonly Gen<Op> PutServiceGen =
        from service in Gen.Choose(0, ServiceNames.Length - 1)
        from pool in Gen.Frequency((1, Gen.Elements<string?>("p0", "p1", "nope")), (4, Gen.Constant<string?>(null)))
        from key in Gen.Frequency((1, Gen.Constant<string?>("k")), (2, Gen.Constant<string?>(null)))
        from port in Gen.Choose(80, 82)
        from dual in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from lb in Gen.Frequency((6, Gen.Constant(true)), (1, Gen.Constant(false)))
        select (Op)new PutService(service, pool, key, port, dual, lb);

    private static readonly Gen<Op[]> OpsGen =
        from length in Gen.Choose(5, 40)
        from ops in Gen.Frequency(
            (3, PutPoolGen),
            (1, Gen.Choose(0, PoolNames.Length - 1).Select(p => (Op)new DeletePool(p))),
            (6, PutServiceGen),
            (2, Gen.Choose(0, ServiceNames.Length - 1).Select(s => (Op)new DeleteService(s))),
            (1, Gen.Constant((Op)new Restart()))).ArrayOf(length)
        select ops;

    [Fact]
    public void RandomChurn_InvariantsHoldAndRestartsChangeNothing()
    {
        var stats = new Stats();
        var config = Config.QuickThrowOnFailure.WithMaxTest(250)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed), FSharpOption<int>.None)));
        Check.One(config, Prop.ForAll(Arb.From(OpsGen), (Op[] ops) => new Cluster(stats).Run(ops)));
        output.WriteLine($"assignments {stats.Assignments}, shared {stats.Shared}, moves {stats.Moves}, restarts {stats.Restarts}, kept-outside-pool {stats.KeptOutside}");
        // The generator must reach the interesting cases, or the invariants prove little.
        Assert.True(stats.Assignments > 500 && stats.Shared > 20 && stats.Moves > 20 && stats.Restarts > 100 && stats.KeptOutside > 5,
            $"assignments {stats.Assignments}, shared {stats.Shared}, moves {stats.Moves}, restarts {stats.Restarts}, kept {stats.KeptOutside}");
    }

    private sealed class Stats
    {
        public int Assignments, Shared, Moves, Restarts, KeptOutside;
    }

    /// <summary>The API's objects as the controller would see them, and the controller's two reconcilers.</summary>
    private sealed class Cluster(Stats stats)
    {
        private readonly SortedDictionary<string, IPAddressPool> _pools = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, V1Service> _services = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<string>> _status = [];
        // The addresses each pool offers as the controller sees it: its spec, or its last valid spec while invalid.
        private readonly Dictionary<string, string[]> _offered = [];
        private int _created;
        private ServiceReconciler _reconciler = null!;
        private PoolReconciler _poolReconciler = null!;

        public bool Run(Op[] ops)
        {
            NewController();
            foreach (var op in ops)
            {
                var before = _status.ToDictionary(kv => kv.Key, kv => kv.Value.ToList());
                var recordedPool = _services.ToDictionary(kv => kv.Key, kv => kv.Value.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.IPAllocatedFromPool));
                var touched = Apply(op);
                CheckNoDoubleHolding();
                CheckChangesAreJustified(before, recordedPool, touched, op);
            }
            return true;
        }

        private void NewController()
        {
            var allocator = new PoolAllocator();
            _poolReconciler = new PoolReconciler(allocator);
            _reconciler = new ServiceReconciler(allocator, null, _poolReconciler.IsFrozen);
            // A fresh controller knows no last valid spec of a pool that is invalid now.
            foreach (var (name, pool) in _pools)
            {
                if (!IsValid(pool)) _offered.Remove(name);
            }
        }

        /// <summary>Returns the Service whose own request changed (it may move), if any.</summary>
        private string? Apply(Op op)
        {
            switch (op)
            {
                case PutPool p:
                    var pool = new IPAddressPool
                    {
                        Metadata = new V1ObjectMeta { Name = PoolNames[p.Pool], NamespaceProperty = "barelb-system" },
                        Spec = new IPAddressPoolSpec
                        {
                            // Invalid: a reversed range, which the controller's validation refuses.
                            Addresses = [p.Invalid ? $"198.51.100.{p.First + p.Length}-198.51.100.{p.First}"
                                : p.V6 ? $"2001:db8::{p.First:x}-2001:db8::{p.First + p.Length - 1:x}" : $"198.51.100.{p.First}-198.51.100.{p.First + p.Length - 1}"],
                            AutoAssign = p.AutoAssign,
                        },
                    };
                    _pools[pool.Metadata.Name!] = pool;
                    if (!p.Invalid) _offered[pool.Metadata.Name!] = pool.Spec.Addresses.ToArray();
                    SyncPools();
                    return null;
                case DeletePool d:
                    _pools.Remove(PoolNames[d.Pool]);
                    _offered.Remove(PoolNames[d.Pool]);
                    SyncPools();
                    return null;
                case PutService s:
                    var name = ServiceNames[s.Service];
                    var annotations = new Dictionary<string, string>();
                    if (s.RequestedPool is { } rp) annotations[Annotations.AddressPool] = rp;
                    if (s.SharingKey is { } k) annotations[Annotations.AllowSharedIP] = k;
                    var created = _services.TryGetValue(name, out var old) ? old.Metadata.CreationTimestamp : DateTime.UnixEpoch.AddSeconds(++_created);
                    if (old?.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.IPAllocatedFromPool) is { } recorded)
                    {
                        annotations[Annotations.IPAllocatedFromPool] = recorded;
                    }
                    _services[name] = new V1Service
                    {
                        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "demo", Annotations = annotations, CreationTimestamp = created },
                        Spec = new V1ServiceSpec
                        {
                            Type = s.LoadBalancer ? "LoadBalancer" : "ClusterIP",
                            IpFamilies = s.DualStack ? ["IPv4", "IPv6"] : ["IPv4"],
                            IpFamilyPolicy = s.DualStack ? "PreferDualStack" : "SingleStack",
                            Ports = [new V1ServicePort { Port = s.Port, Protocol = "TCP" }],
                        },
                    };
                    ReconcileService(name);
                    return name;
                case DeleteService ds:
                    var deleted = ServiceNames[ds.Service];
                    _services.Remove(deleted);
                    ReconcileService(deleted);
                    return deleted;
                default:
                    RestartAndCompare();
                    return null;
            }
        }

        private void SyncPools()
        {
            _poolReconciler.Sync(_pools.Values.ToList());
            RelocateOrphans();
            RetryWaiting();
        }

        /// <summary>As the controller's pool pass does: move what left every usable pool, where something can take it.</summary>
        private void RelocateOrphans()
        {
            foreach (var orphan in _reconciler.Allocator.Misplaced())
            {
                var key = orphan.Service.Name;
                var decision = _reconciler.Relocate(orphan.Service, _services[key], null);
                if (decision.Outcome == ServiceOutcome.Assigned) stats.Moves++;
                else stats.KeptOutside++;
                Show(key, decision.Assignment);
                if (decision.FreedAddresses)
                {
                    RetryWaiting();
                }
            }
        }

        /// <summary>As the controller's queue does: every Service waiting for an address gets another try.</summary>
        private void RetryWaiting()
        {
            if (_reconciler.Allocator.Misplaced().Count > 0)
            {
                RelocateOrphans();
            }
            foreach (var key in _reconciler.Waiting.ToList())
            {
                ReconcileService(key.Name);
            }
        }

        private void ReconcileService(string name)
        {
            _services.TryGetValue(name, out var service);
            var decision = _reconciler.Reconcile(new ServiceKey("demo", name), service, null);
            if (decision.Outcome == ServiceOutcome.Assigned) stats.Assignments++;
            if (service is null) { _status.Remove(name); }
            else { Show(name, decision.Assignment); }
            if (decision.FreedAddresses)
            {
                RetryWaiting();
            }
        }

        /// <summary>What the controller writes: status, and the pool annotation (kept when the address lies in no pool).</summary>
        private void Show(string name, Assignment? assignment)
        {
            var annotations = _services[name].Metadata.Annotations ??= new Dictionary<string, string>();
            if (assignment is null)
            {
                _status.Remove(name);
                annotations.Remove(Annotations.IPAllocatedFromPool);
                return;
            }
            _status[name] = assignment.Addresses.Select(a => a.ToString()).Order(StringComparer.Ordinal).ToList();
            if (assignment.Pool is { } pool)
            {
                annotations[Annotations.IPAllocatedFromPool] = pool;
            }
        }

        private void RestartAndCompare()
        {
            stats.Restarts++;
            var before = _status.ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value));
            NewController();
            _poolReconciler.Sync(_pools.Values.ToList());
            foreach (var service in _services.Values.OrderBy(s => s.Metadata.CreationTimestamp))
            {
                if (_status.TryGetValue(service.Metadata.Name!, out var ips))
                {
                    var withStatus = WithIngress(service, ips);
                    var restored = _reconciler.Restore(withStatus, null);
                    Assert.True(restored is null || restored.Succeeded, $"restore of {service.Metadata.Name} failed: {restored?.Message}");
                }
            }
            SyncPools();
            var after = _status.ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value));
            var changed = before.Keys.Union(after.Keys).Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
                .Select(k => $"{k}: {before.GetValueOrDefault(k) ?? "-"} -> {after.GetValueOrDefault(k) ?? "-"}").ToList();
            Assert.True(changed.Count == 0, "restart changed " + string.Join("; ", changed) +
                " pools: " + string.Join(" ", _pools.Values.Select(p => $"{p.Metadata.Name}={string.Join(",", p.Spec.Addresses!)}/{p.Spec.AutoAssign}")));
        }

        private static V1Service WithIngress(V1Service service, List<string> ips) => new()
        {
            Metadata = service.Metadata,
            Spec = service.Spec,
            Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = ips.Select(ip => new V1LoadBalancerIngress { Ip = ip }).ToList() } },
        };

        private void CheckNoDoubleHolding()
        {
            foreach (var group in _status.SelectMany(kv => kv.Value.Select(ip => (ip, svc: kv.Key))).GroupBy(x => x.ip))
            {
                var holders = group.Select(x => _services[x.svc]).ToList();
                if (holders.Count < 2) continue;
                stats.Shared++;
                var keys = holders.Select(h => h.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.AllowSharedIP)).Distinct().ToList();
                Assert.True(keys.Count == 1 && keys[0] is not null, $"{group.Key} held by {string.Join(",", group.Select(x => x.svc))} without a common sharing key");
                var ports = holders.SelectMany(h => h.Spec.Ports!.Select(p => p.Port)).ToList();
                Assert.True(ports.Count == ports.Distinct().Count(), $"{group.Key} shared by Services with a common port");
            }
        }

        private void CheckChangesAreJustified(Dictionary<string, List<string>> before, Dictionary<string, string?> recordedPool, string? touched, Op op)
        {
            foreach (var (name, ips) in _status)
            {
                var had = before.GetValueOrDefault(name);
                if (had is not null && had.SequenceEqual(ips)) continue;
                // A new or changed address must come from a pool that offers it to this Service.
                var service = _services[name];
                var requested = service.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.AddressPool);
                foreach (var ip in ips)
                {
                    var address = IPAddress.Parse(ip);
                    var offering = _pools.Values.Where(p => Offers(p, address) && (requested is null ? p.Spec.AutoAssign != false : p.Metadata.Name == requested)).ToList();
                    Assert.True(offering.Count > 0, $"{name} got {ip}, which no pool it may use offers (after {op})");
                }
                // Someone else's address changed: only when no pool it may use offers its old address any more
                // (a pool holding it was deleted or shrunk), and never away from a pool that is merely invalid.
                if (had is not null && name != touched && had.Count > 0)
                {
                    var stillHome = had.All(ip => _pools.Values.Any(p =>
                        (Offers(p, IPAddress.Parse(ip)) && (requested is null || p.Metadata.Name == requested)) ||
                        (!IsValid(p) && p.Metadata.Name == recordedPool.GetValueOrDefault(name))));
                    // A dual-stack Service may gain its second family when a pool for it appears.
                    var gainedOnly = had.All(ips.Contains);
                    Assert.True(!stillHome || gainedOnly,
                        $"{name} moved from {string.Join(",", had)} to {string.Join(",", ips)} after {op} though a pool it may use still offers its address");
                }
            }
            foreach (var (name, ips) in before)
            {
                if (!_status.ContainsKey(name) && ips.Count > 0)
                {
                    Assert.True(name == touched, $"{name} lost {string.Join(",", ips)} after {op}");
                }
            }
        }

        private bool Offers(IPAddressPool pool, IPAddress address) =>
            _offered.TryGetValue(pool.Metadata.Name!, out var ranges) &&
            ranges.Any(text => IpRange.TryParse(text, out var range, out _) && range.Contains(address));

        private static bool IsValid(IPAddressPool pool) =>
            pool.Spec.Addresses!.All(text => IpRange.TryParse(text, out _, out _));
    }
}
