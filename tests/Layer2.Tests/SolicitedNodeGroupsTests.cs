using System.Net;
using FsCheck;
using FsCheck.Fluent;

namespace BareLb.Layer2.Tests;

public sealed class SolicitedNodeGroupsTests
{
    [Fact]
    public void SolicitedNode_Address_LowTwentyFourBitsUnderTheGroupPrefix()
    {
        var group = IpAddresses.SolicitedNode(IpAddresses.ToUInt128(IPAddress.Parse("2001:db8::abcd:1234:5678")));

        Assert.Equal(IPAddress.Parse("ff02::1:ff34:5678"), IpAddresses.FromIPv6(group));
        Assert.True(IpAddresses.IsSolicitedNode(group));
        Assert.False(IpAddresses.IsSolicitedNode(IpAddresses.AllNodes));
    }

    [Fact]
    public void AddRemove_SharedGroup_JoinedOnFirstLeftOnLast()
    {
        var groups = new SolicitedNodeGroups();
        var a = IpAddresses.ToUInt128(IPAddress.Parse("2001:db8::1:0:10"));
        var b = IpAddresses.ToUInt128(IPAddress.Parse("2001:db8::2:0:10"));

        Assert.NotNull(groups.Add(2, a));
        Assert.Null(groups.Add(2, b));
        Assert.NotNull(groups.Add(3, b));
        Assert.Null(groups.Remove(2, a));
        Assert.Equal(IpAddresses.SolicitedNode(b), groups.Remove(2, b));
        Assert.Equal(1, groups.Count);
    }

    [Fact]
    public void AddRemove_RandomSequence_JoinedGroupsMatchModel()
    {
        // Addresses drawn from a small set with colliding low 24 bits, on two interfaces.
        var addresses = Enumerable.Range(0, 6).Select(i => IpAddresses.ToUInt128(IPAddress.Parse($"2001:db8:{i % 3}::{(i < 3 ? "10" : "11")}"))).ToArray();
        var gen = Gen.ArrayOf(Gen.Zip(Gen.Choose(0, 5), Gen.Choose(1, 2)), 60);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(Arb.From(gen), steps =>
        {
            var groups = new SolicitedNodeGroups();
            var held = new HashSet<(int, UInt128)>();
            var joined = new HashSet<(int, UInt128)>();
            foreach (var (i, ifindex) in steps)
            {
                var address = addresses[i];
                if (held.Add((ifindex, address)))
                {
                    if (groups.Add(ifindex, address) is { } join)
                    {
                        Assert.True(joined.Add((ifindex, join)), "joined twice");
                    }
                }
                else
                {
                    held.Remove((ifindex, address));
                    if (groups.Remove(ifindex, address) is { } leave)
                    {
                        Assert.True(joined.Remove((ifindex, leave)), "left a group not joined");
                    }
                }
                var model = held.Select(h => (h.Item1, IpAddresses.SolicitedNode(h.Item2))).ToHashSet();
                Assert.True(model.SetEquals(joined));
            }
        }));
    }
}
