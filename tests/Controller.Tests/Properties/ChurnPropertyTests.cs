using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using BareLb.Allocator;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Tests.Support;
using BareLb.Kubernetes;
using BareLb.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using k8s;
using k8s.Models;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests.Properties;

/// <summary>
/// Random churn of IPAddressPools and Services against the real controller (its loop, writer and informers, over
/// HTTP against the in-memory API server). The controller's writes are held back and released in random order, so
/// several are in flight at once and land out of order; pools are deleted while Services hold their addresses
/// (the finalizer holds them, they drain); the controller crashes with writes in flight and restarts.
/// Checked on every Service watch event the API server sends: no address is shown by two Services unless sharing
/// allows it. Checked whenever the controller has settled: every address shown lies in a pool that has it or was
/// shown by that Service before (nothing is taken from a running Service, nothing is invented); pool counts match
/// what Services show; a pool being deleted is held only while a Service still shows its addresses; and a restart
/// of a settled controller changes nothing.
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
    /// <summary>Lets some of the held writes land, in an order of the generator's choosing.</summary>
    private sealed record ReleaseWrites(int Count, int Order) : Op;
    /// <summary>Every held write lands and the controller settles; the settled state is checked.</summary>
    private sealed record Settle : Op;
    /// <summary>A settled controller restarts; nothing may change.</summary>
    private sealed record Restart : Op;
    /// <summary>The controller dies with writes in flight (they land or are lost), and a new one starts.</summary>
    private sealed record Crash(bool HeldWritesLand) : Op;

    private static readonly Gen<Op> PutPoolGen =
        from pool in Gen.Choose(0, PoolNames.Length - 1)
        from first in Gen.Choose(0, 6)
        from length in Gen.Choose(1, 4)
        from v6 in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
        from autoAssign in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from invalid in Gen.Frequency((1, Gen.Constant(true)), (8, Gen.Constant(false)))
        select (Op)new PutPool(pool, first, length, v6, autoAssign, invalid);

    private static readonly Gen<Op> PutServiceGen =
        from service in Gen.Choose(0, ServiceNames.Length - 1)
        from pool in Gen.Frequency((1, Gen.Elements<string?>("p0", "p1", "nope")), (4, Gen.Constant<string?>(null)))
        from key in Gen.Frequency((1, Gen.Constant<string?>("k")), (2, Gen.Constant<string?>(null)))
        from port in Gen.Choose(80, 82)
        from dual in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
        from lb in Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false)))
        select (Op)new PutService(service, pool, key, port, dual, lb);

    private static readonly Gen<Op[]> OpsGen =
        from length in Gen.Choose(12, 36)
        from ops in Gen.Frequency(
            (4, PutPoolGen),
            (2, Gen.Choose(0, PoolNames.Length - 1).Select(p => (Op)new DeletePool(p))),
            (9, PutServiceGen),
            (2, Gen.Choose(0, ServiceNames.Length - 1).Select(s => (Op)new DeleteService(s))),
            (3, from count in Gen.Choose(1, 3) from order in Gen.Choose(0, 1000) select (Op)new ReleaseWrites(count, order)),
            (1, Gen.Constant((Op)new Settle())),
            (1, Gen.Constant((Op)new Restart())),
            (1, Gen.Elements(true, false).Select(land => (Op)new Crash(land)))).ArrayOf(length)
        select ops;

    [Fact]
    public void RandomChurn_NoAddressOnTwoServicesAtAnyMoment_SettledStatesHold()
    {
        var stats = new Stats();
        var config = Config.QuickThrowOnFailure.WithMaxTest(50)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed), FSharpOption<int>.None)));
        Check.One(config, Prop.ForAll(Arb.From(OpsGen), (Op[] ops) => Run(ops, stats).GetAwaiter().GetResult()));
        output.WriteLine(stats.ToString());
        // The generator must reach the interesting cases, or the invariants prove little.
        // (Timing varies from run to run: the thresholds are about half of what a run reaches.)
        Assert.True(stats.WatchEvents > 500 && stats.HeldWrites > 100 && stats.OutOfOrder > 5 && stats.Moves > 5 && stats.Shared > 5 &&
            stats.Terminating > 3 && stats.Draining > 5 && stats.Restarts > 20 && stats.Crashes > 20, stats.ToString());
    }

    private static async Task<bool> Run(Op[] ops, Stats stats)
    {
        await using var f = await StartAsync(startController: false);
        var held = new HoldingClient(f.Cluster.Client, stats);
        var options = DefaultOptions();
        await f.StartControllerAsync(held, options: options);
        await using var invariant = await AddressInvariant.StartAsync(f.Cluster.Client);
        var model = new Model(f, held, invariant, stats);
        for (var step = 0; step < ops.Length; step++)
        {
            try
            {
                await model.ApplyAsync(ops[step]);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"step {step} ({ops[step]}) of [{string.Join(", ", ops)}]: {e.Message}\nwrites:\n{string.Join("\n", held.Log)}", e);
            }
        }
        await model.ApplyAsync(new Settle());
        stats.WatchEvents += invariant.Events;
        stats.Excused += invariant.Excused;
        return true;
    }

    private sealed class Stats
    {
        public int WatchEvents, HeldWrites, OutOfOrder, Moves, Shared, Terminating, Draining, Restarts, Crashes, Settles, Excused;

        public override string ToString() =>
            $"watch events {WatchEvents}, held writes {HeldWrites}, released out of order {OutOfOrder}, moves {Moves}, shared {Shared}, " +
            $"pools terminating {Terminating}, draining {Draining}, restarts {Restarts}, crashes {Crashes}, settles {Settles}, " +
            $"clashes caused by a user's edit of a sharer (excused, resolved by the next settle) {Excused}";
    }

    /// <summary>Holds every write of the controller (Services and pools) until the test releases it.</summary>
    private sealed class HoldingClient(IKubernetesClient inner, Stats stats) : DelegatingKubernetesClient(inner)
    {
        private readonly Lock _lock = new();
        private readonly List<TaskCompletionSource> _held = [];
        private bool _passThrough;

        public void PassThrough(bool on)
        {
            lock (_lock)
            {
                _passThrough = on;
                if (on)
                {
                    // Newest first: a write decided after another lands before it, the order that would expose a
                    // decision made on an address the older write had not yet freed.
                    for (var i = _held.Count - 1; i >= 0; i--)
                    {
                        _held[i].TrySetResult();
                        if (i < _held.Count - 1)
                        {
                            stats.OutOfOrder++;
                        }
                    }
                    _held.Clear();
                }
            }
        }

        /// <summary>Lets up to <paramref name="count"/> held writes go, picked by <paramref name="order"/>.</summary>
        public void Release(int count, int order)
        {
            lock (_lock)
            {
                for (var i = 0; i < count && _held.Count > 0; i++)
                {
                    // Mostly the newest, sometimes another: writes land in an order other than they were made.
                    var pick = (order + i) % 3 == 0 ? (order + i * 7) % _held.Count : _held.Count - 1;
                    if (pick != 0)
                    {
                        stats.OutOfOrder++;
                    }
                    _held[pick].TrySetResult();
                    _held.RemoveAt(pick);
                }
            }
        }

        public override async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
        {
            if (type.Kind is "Service" or "IPAddressPool")
            {
                TaskCompletionSource? gate = null;
                lock (_lock)
                {
                    if (!_passThrough)
                    {
                        gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        _held.Add(gate);
                        stats.HeldWrites++;
                    }
                }
                if (gate is not null)
                {
                    await gate.Task.WaitAsync(ct);
                }
            }
            try
            {
                var result = await Inner.PatchAsync(type, ns, name, mergePatch, status, ct);
                Log.Enqueue($"{name}{(status ? "/status" : "")} {mergePatch.ToJsonString()} -> {result.Metadata.ResourceVersion}");
                return result;
            }
            catch (Exception e)
            {
                Log.Enqueue($"{name}{(status ? "/status" : "")} {mergePatch.ToJsonString()} -> {e.GetType().Name}");
                throw;
            }
        }

        public readonly ConcurrentQueue<string> Log = new();
    }

    /// <summary>What the test put into the API, and the checks on what the controller made of it.</summary>
    private sealed class Model(ControllerFixture f, HoldingClient held, AddressInvariant invariant, Stats stats)
    {
        // Last valid spec of each pool as written by the test (what a controller that saw it could know), and every
        // range any pool ever offered (an address given then may be kept after its pool changed).
        private readonly Dictionary<string, string[]> _validRanges = [];
        private readonly HashSet<string> _everOffered = [];
        private readonly HashSet<string> _pools = [];
        private readonly Dictionary<string, IReadOnlyList<string>> _lastSettled = [];
        private readonly HashSet<string> _services = [];

        public async Task ApplyAsync(Op op)
        {
            switch (op)
            {
                case PutPool p:
                    await PutPoolAsync(p);
                    break;
                case DeletePool d:
                    var pool = PoolNames[d.Pool];
                    if (_pools.Contains(pool))
                    {
                        try
                        {
                            await f.Client.DeleteAsync(BareLbResources.IPAddressPools, SystemNamespace, pool, null, default);
                        }
                        catch (NotFoundException)
                        {
                            _pools.Remove(pool); // it drained and went since the last look
                        }
                    }
                    break;
                case PutService s:
                    await PutServiceAsync(s);
                    break;
                case DeleteService ds:
                    var name = ServiceNames[ds.Service];
                    if (_services.Remove(name))
                    {
                        await f.Client.DeleteAsync(CoreResources.Services, AppNamespace, name, null, default);
                    }
                    break;
                case ReleaseWrites r:
                    held.Release(r.Count, r.Order);
                    break;
                case Settle:
                    await SettleAndCheckAsync();
                    break;
                case Restart:
                    await SettleAndCheckAsync();
                    var before = await ShownAsync();
                    await f.StopControllerAsync();
                    await f.StartControllerAsync(held);
                    await SettleAndCheckAsync();
                    var after = await ShownAsync();
                    Assert.True(Describe(before) == Describe(after), $"restart changed {Describe(before)} -> {Describe(after)}");
                    stats.Restarts++;
                    break;
                case Crash c:
                    if (c.HeldWritesLand)
                    {
                        held.PassThrough(true);
                    }
                    await f.StopControllerAsync();
                    held.PassThrough(false);
                    await f.StartControllerAsync(held);
                    stats.Crashes++;
                    break;
            }
        }

        private async Task PutPoolAsync(PutPool p)
        {
            var name = PoolNames[p.Pool];
            string[] addresses = [p.Invalid ? $"198.51.100.{p.First + p.Length}-198.51.100.{p.First}"
                : p.V6 ? $"2001:db8::{p.First:x}-2001:db8::{p.First + p.Length - 1:x}" : $"198.51.100.{p.First}-198.51.100.{p.First + p.Length - 1}"];
            if (_pools.Contains(name))
            {
                IPAddressPool current;
                try
                {
                    current = await f.GetPoolAsync(name);
                }
                catch (NotFoundException)
                {
                    _pools.Remove(name);
                    await PutPoolAsync(p);
                    return;
                }
                if (current.Metadata.DeletionTimestamp is not null)
                {
                    return; // Terminating: the API refuses nothing here, but a spec edit of a dying pool tells us little.
                }
                await f.UpdatePoolAsync(name, pool =>
                {
                    pool.Spec.Addresses = [.. addresses];
                    pool.Spec.AutoAssign = p.AutoAssign;
                });
            }
            else
            {
                await f.CreatePoolAsync(name, new IPAddressPoolSpec { Addresses = [.. addresses], AutoAssign = p.AutoAssign });
                _pools.Add(name);
            }
            if (!p.Invalid)
            {
                _validRanges[name] = addresses;
                _everOffered.UnionWith(addresses);
            }
        }

        private async Task PutServiceAsync(PutService s)
        {
            var name = ServiceNames[s.Service];
            var annotations = new Dictionary<string, string>();
            if (s.RequestedPool is { } pool)
            {
                annotations[Annotations.AddressPool] = pool;
            }
            if (s.SharingKey is { } key)
            {
                annotations[Annotations.AllowSharedIP] = key;
            }
            if (!_services.Contains(name))
            {
                var service = LoadBalancer(name, annotations, s.DualStack ? ["IPv4", "IPv6"] : ["IPv4"], s.DualStack ? "PreferDualStack" : "SingleStack", s.Port);
                service.Spec.Type = s.LoadBalancer ? "LoadBalancer" : "ClusterIP";
                await f.CreateServiceAsync(service);
                _services.Add(name);
                return;
            }
            // An edit as a user makes it: annotations and ports (the families of a Service cannot change).
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["annotations"] = new JsonObject
                    {
                        [Annotations.AddressPool] = s.RequestedPool is null ? null : JsonValue.Create(s.RequestedPool),
                        [Annotations.AllowSharedIP] = s.SharingKey is null ? null : JsonValue.Create(s.SharingKey),
                    },
                },
                ["spec"] = new JsonObject
                {
                    ["type"] = s.LoadBalancer ? "LoadBalancer" : "ClusterIP",
                    ["ports"] = new JsonArray(new JsonObject { ["port"] = s.Port, ["protocol"] = "TCP" }),
                },
            };
            await f.Client.PatchAsync(CoreResources.Services, AppNamespace, name, patch, status: false, default);
        }

        private async Task SettleAndCheckAsync()
        {
            held.PassThrough(true);
            await f.SettleAsync();
            held.PassThrough(false);
            await invariant.CatchUpAsync(f.Cluster.Client);
            invariant.AssertHeld();
            stats.Settles++;

            var shown = await ShownAsync();
            var pools = (await f.Client.ListAsync(BareLbResources.IPAddressPools, SystemNamespace, null, default)).Items;
            foreach (var (service, addresses) in shown)
            {
                var before = _lastSettled.GetValueOrDefault(service) ?? [];
                foreach (var address in addresses)
                {
                    var offered = _everOffered.Any(r => Contains(r, address));
                    Assert.True(offered || before.Contains(address), $"{service} shows {address}, which no pool ever offered and it did not show before");
                }
                if (before.Count > 0 && !before.SequenceEqual(addresses))
                {
                    stats.Moves++;
                }
            }
            stats.Shared += shown.Values.SelectMany(a => a).GroupBy(a => a).Count(g => g.Count() > 1);

            foreach (var pool in pools)
            {
                var name = pool.Metadata.Name!;
                var ranges = _validRanges.GetValueOrDefault(name) ?? [];
                var inPool = shown.Values.SelectMany(a => a).Where(a => ranges.Any(r => Contains(r, a))).Distinct().ToList();
                if (pool.Metadata.DeletionTimestamp is not null)
                {
                    stats.Terminating++;
                    // Held by the finalizer only while a Service still shows one of its addresses.
                    Assert.True(inPool.Count > 0, $"pool {name} is Terminating though no Service shows its addresses");
                }
                if (pool.Status?.Conditions?.Any(c => c.Type == PoolConditions.Draining && c.Status == "True" && c.Message?.Contains("demo/") == true) == true)
                {
                    stats.Draining++;
                }
                var valid = pool.Status?.Conditions?.FirstOrDefault(c => c.Type == PoolConditions.Valid)?.Status == "True";
                if (valid && pool.Metadata.DeletionTimestamp is null)
                {
                    var v4 = inPool.Count(a => IPAddress.Parse(a).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
                    Assert.True(pool.Status!.AssignedIPv4 == v4, $"pool {name} ({string.Join(",", pool.Spec.Addresses ?? [])}) counts {pool.Status.AssignedIPv4} IPv4 addresses assigned, Services show {v4}: {Describe(shown)}; pools {string.Join(" ", pools.Select(q => $"{q.Metadata.Name}={string.Join(",", q.Spec.Addresses ?? [])}{(q.Metadata.DeletionTimestamp is null ? "" : "(deleting)")}"))}");
                    Assert.True(pool.Status.AssignedIPv6 == inPool.Count - v4, $"pool {name} counts {pool.Status.AssignedIPv6} IPv6 addresses assigned, Services show {inPool.Count - v4}");
                }
            }
            foreach (var gone in _pools.Where(p => pools.All(q => q.Metadata.Name != p)).ToList())
            {
                _pools.Remove(gone);
            }

            _lastSettled.Clear();
            foreach (var (service, addresses) in shown)
            {
                _lastSettled[service] = addresses;
            }
        }

        private async Task<Dictionary<string, IReadOnlyList<string>>> ShownAsync()
        {
            var list = await f.Client.ListAsync(CoreResources.Services, AppNamespace, null, default);
            return list.Items.Where(s => Ingress(s).Count > 0).ToDictionary(s => s.Metadata.Name!, s => (IReadOnlyList<string>)[.. Ingress(s).Order(StringComparer.Ordinal)]);
        }

        private static string Describe(Dictionary<string, IReadOnlyList<string>> shown) =>
            string.Join(" ", shown.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={string.Join(",", kv.Value)}"));

        private static bool Contains(string range, string address) =>
            IpRange.TryParse(range, out var parsed, out _) && parsed.Contains(IPAddress.Parse(address));
    }
}
