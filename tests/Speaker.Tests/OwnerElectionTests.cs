using BareLb.Speaker.Planning;

namespace BareLb.Speaker.Tests;

public sealed class OwnerElectionTests
{
    private static readonly string[] Nodes = ["node-a", "node-b", "node-c", "node-d"];

    [Fact]
    public void Owner_NoNodes_IsNull() => Assert.Null(OwnerElection.Owner("198.51.100.1", []));

    [Fact]
    public void Owner_NodeOrder_DoesNotMatter()
    {
        for (var i = 0; i < 64; i++)
        {
            var address = $"198.51.100.{i}";
            Assert.Equal(OwnerElection.Owner(address, Nodes), OwnerElection.Owner(address, Nodes.Reverse()));
        }
    }

    [Fact]
    public void Owner_NodeRemoved_OnlyItsAddressesMove()
    {
        var addresses = Enumerable.Range(0, 256).Select(i => $"203.0.113.{i}").ToList();
        var before = addresses.ToDictionary(a => a, a => OwnerElection.Owner(a, Nodes));
        var survivors = Nodes.Where(n => n != "node-b").ToList();
        foreach (var address in addresses)
        {
            var after = OwnerElection.Owner(address, survivors);
            if (before[address] != "node-b")
            {
                Assert.Equal(before[address], after);
            }
            else
            {
                Assert.NotEqual("node-b", after);
            }
        }
    }

    [Fact]
    public void Owner_ManyAddresses_SpreadOverEveryNode()
    {
        var counts = Enumerable.Range(0, 400).Select(i => OwnerElection.Owner($"2001:db8::{i:x}", Nodes))
            .GroupBy(n => n).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(Nodes.Length, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 50, 150));
    }
}
