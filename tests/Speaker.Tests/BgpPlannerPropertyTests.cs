using System.Buffers.Binary;
using System.Net;
using BareLb.Api.Config;
using BareLb.Speaker.Planning;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using static BareLb.Speaker.Tests.ConfigObjects;

namespace BareLb.Speaker.Tests;

/// <summary>The planner's routes against a model: each address masked with integer arithmetic, duplicates merged.</summary>
public sealed class BgpPlannerPropertyTests
{
    private const ulong Seed = 0x5EED_B6B;

    private sealed record Case(int Length, int LengthV6, (bool V6, ulong Bits)[] Addresses);

    private static readonly Gen<Case> Cases =
        from length in Gen.Choose(24, 32)
        from lengthV6 in Gen.Choose(64, 128)
        from count in Gen.Choose(1, 24)
        from addresses in Gen.Zip(Gen.Elements(true, false), Gen.Choose(0, int.MaxValue).Two()).ArrayOf(count)
        select new Case(length, lengthV6, [.. addresses.Select(a => (a.Item1, ((ulong)(uint)a.Item2.Item1 << 32) | (uint)a.Item2.Item2))]);

    private static IPAddress AddressOf((bool V6, ulong Bits) a)
    {
        if (!a.V6)
        {
            return IPAddress.Parse($"198.51.100.{a.Bits % 256}");
        }
        Span<byte> bytes = stackalloc byte[16];
        IPAddress.Parse("2001:db8:1::").TryWriteBytes(bytes, out _);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], a.Bits);
        return new IPAddress(bytes);
    }

    private static IPNetwork Model(IPAddress address, int length, int lengthV6)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        if (written == 4)
        {
            var value = BinaryPrimitives.ReadUInt32BigEndian(bytes) & (uint.MaxValue << (32 - length));
            return new IPNetwork(new IPAddress(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value), length);
        }
        var wide = BinaryPrimitives.ReadUInt128BigEndian(bytes) & (lengthV6 == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - lengthV6));
        BinaryPrimitives.WriteUInt128BigEndian(bytes, wide);
        return new IPNetwork(new IPAddress(bytes), lengthV6);
    }

    [Fact]
    public void Plan_RandomAddressesAndLengths_RoutesAreTheModelsPrefixesInAnyInputOrder()
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(300)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed), FSharpOption<int>.None)));
        Check.One(config, Prop.ForAll(Arb.From(Cases), (Case c) =>
        {
            var parsed = ConfigParser.Parse([Pool("main", "198.51.100.0/24", "2001:db8:1::/64")], [], [Peer("router")],
                [BgpAdv("all", a => (a.AggregationLength, a.AggregationLengthV6) = (c.Length, c.LengthV6))], []);
            Assert.Empty(parsed.Errors);
            var services = c.Addresses.Select((a, i) => Service($"s{i}", "Cluster", AddressOf(a).ToString())).ToList();
            var endpoints = services.ToDictionary(s => $"demo/{s.Metadata.Name}", _ => new ServiceEndpoints(new HashSet<string>(), true));
            BgpPlan PlanOf(IEnumerable<k8s.Models.V1Service> list) => BgpPlanner.Plan(new BgpPlanInput(
                new NodeInfo("a", new Dictionary<string, string>(), InternalAddresses: [IPAddress.Parse("203.0.113.10")]),
                parsed.Config, [.. list], endpoints, null, _ => null, false));

            var plan = PlanOf(services);
            var reversed = PlanOf(services.AsEnumerable().Reverse());

            var expected = c.Addresses.Select(a => Model(AddressOf(a), c.Length, c.LengthV6)).Distinct().Order(PrefixOrder.Instance).ToList();
            var routes = Assert.Single(plan.Peers).Routes;
            Assert.Equal(expected, routes.Select(r => r.Prefix).Order(PrefixOrder.Instance));
            Assert.Equal(routes, Assert.Single(reversed.Peers).Routes);
            Assert.Equal(services.Count, plan.PeersByService.Count);
        }));
    }

    private sealed class PrefixOrder : IComparer<IPNetwork>
    {
        public static readonly PrefixOrder Instance = new();

        public int Compare(IPNetwork a, IPNetwork b)
        {
            var family = a.BaseAddress.AddressFamily.CompareTo(b.BaseAddress.AddressFamily);
            return family != 0 ? family : a.BaseAddress.GetAddressBytes().AsSpan().SequenceCompareTo(b.BaseAddress.GetAddressBytes());
        }
    }
}
