namespace BareLb.Layer2.Tests;

public sealed class InterfacePolicyTests
{
    private static readonly MacAddress Mac = MacAddress.Parse("02:00:00:00:00:01");
    private const LinkFlags UpWithCarrier = LinkFlags.Up | LinkFlags.LowerUp;

    private static readonly LinkInfo[] Links =
    [
        new(1, "lo", MacAddress.Zero, LinkFlags.Up | LinkFlags.Loopback, HardwareType: 772),
        new(2, "eth0", Mac, UpWithCarrier),
        new(3, "eth1", Mac, LinkFlags.None),
        new(4, "br0", Mac, UpWithCarrier, Kind: "bridge"),
        new(5, "eth2", Mac, UpWithCarrier, MasterIndex: 4),
        new(6, "bond0", Mac, UpWithCarrier, Kind: "bond"),
        new(7, "eth3", Mac, UpWithCarrier, MasterIndex: 6),
        new(8, "vrf-blue", Mac, UpWithCarrier | LinkFlags.NoArp, Kind: "vrf"),
        new(9, "eth4", Mac, UpWithCarrier, MasterIndex: 8),
        new(10, "veth1234", Mac, UpWithCarrier, Kind: "veth"),
        new(11, "docker0", Mac, UpWithCarrier, Kind: "bridge"),
        new(12, "cali99", Mac, UpWithCarrier, Kind: "veth"),
        new(13, "flannel.1", Mac, UpWithCarrier, Kind: "vxlan"),
        new(14, "cni0", Mac, UpWithCarrier, Kind: "bridge"),
        new(15, "kube-ipvs0", Mac, LinkFlags.Up | LinkFlags.NoArp, Kind: "dummy"),
        new(16, "kube-ipvs1", Mac, UpWithCarrier, Kind: "dummy"),
        new(17, "wg0", MacAddress.Zero, UpWithCarrier, Kind: "wireguard", HardwareType: 65534),
        new(18, "eth0.100", Mac, UpWithCarrier, Kind: "vlan"),
        new(19, "eth5", Mac, LinkFlags.Up),
        new(20, "tap0", Mac, UpWithCarrier, MasterIndex: 99),
    ];

    public static TheoryData<string, string?, LinkVerdict> Cases => new()
    {
        // interface, explicit list (comma-separated; null = all), verdict
        { "lo", null, LinkVerdict.Loopback },
        { "eth0", null, LinkVerdict.Allowed },
        { "eth0", "eth0", LinkVerdict.Allowed },
        { "eth0", "", LinkVerdict.Allowed },
        { "eth0", "eth1", LinkVerdict.NotListed },
        { "eth1", null, LinkVerdict.Down },
        { "eth1", "eth1", LinkVerdict.Down },
        { "br0", null, LinkVerdict.Allowed },
        { "eth2", null, LinkVerdict.Enslaved },
        { "eth2", "eth2", LinkVerdict.Enslaved },
        { "bond0", null, LinkVerdict.Allowed },
        { "eth3", null, LinkVerdict.Enslaved },
        { "eth4", null, LinkVerdict.Allowed },
        { "tap0", null, LinkVerdict.Enslaved },
        { "veth1234", null, LinkVerdict.Excluded },
        { "veth1234", "veth1234", LinkVerdict.Allowed },
        { "veth1234", "eth0,veth1234", LinkVerdict.Allowed },
        { "docker0", null, LinkVerdict.Excluded },
        { "cali99", null, LinkVerdict.Excluded },
        { "flannel.1", null, LinkVerdict.Excluded },
        { "cni0", null, LinkVerdict.Excluded },
        { "kube-ipvs0", null, LinkVerdict.NoArp },
        { "kube-ipvs0", "kube-ipvs0", LinkVerdict.NoArp },
        { "kube-ipvs1", null, LinkVerdict.Excluded },
        { "wg0", null, LinkVerdict.NotEthernet },
        { "eth0.100", null, LinkVerdict.Allowed },
        { "eth5", null, LinkVerdict.Allowed },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Judge_Link_Verdict(string name, string? requested, LinkVerdict expected)
    {
        var link = Links.Single(l => l.Name == name);
        var list = requested?.Split(',', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(expected, new InterfacePolicy().Judge(link, Links, list));
    }

    [Fact]
    public void Allowed_AllInterfaces_TheUplinksOnly()
    {
        var allowed = new InterfacePolicy().Allowed(Links, null).Select(l => l.Name);

        Assert.Equal(["eth0", "br0", "bond0", "eth4", "eth0.100", "eth5"], allowed);
    }

    [Fact]
    public void Judge_CustomExclusionList_ReplacesTheDefault()
    {
        var policy = new InterfacePolicy(["eth*"]);

        Assert.Equal(LinkVerdict.Excluded, policy.Judge(Links[1], Links, null));
        Assert.Equal(LinkVerdict.Allowed, policy.Judge(Links.Single(l => l.Name == "veth1234"), Links, null));
    }

    [Theory]
    [InlineData("veth", true)]
    [InlineData("veth0", true)]
    [InlineData("vet", false)]
    [InlineData("lo", true)]
    [InlineData("lo0", false)]
    [InlineData("xveth0", false)]
    public void IsExcluded_Name_MatchesExactOrPrefix(string name, bool excluded) =>
        Assert.Equal(excluded, new InterfacePolicy().IsExcluded(name));
}
