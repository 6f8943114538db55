using System.Net;
using BareLb.Api.Config;
using BareLb.Api.Tests.Support;

namespace BareLb.Api.Tests;

public sealed class BgpPeerValidatorTests
{
    // A valid eBGP peer; each case replaces or adds fields.
    private const string Base = """ "myASN":64512,"peerASN":64513,"peerAddress":"198.51.100.1" """;

    // Base plus extra fields written with ' for " to keep the table readable.
    private static string Spec(string extra) =>
        extra.Length == 0 ? "{" + Base + "}" : "{" + Base + "," + extra.Replace('\'', '"') + "}";

    public static TheoryData<string, string, string> InvalidPeers => new()
    {
        { """{"peerASN":64513,"peerAddress":"198.51.100.1"}""", "spec.myASN", "must be set to an AS number from 1 to 4294967295" },
        { """{"myASN":0,"peerASN":64513,"peerAddress":"198.51.100.1"}""", "spec.myASN", "must be set to an AS number from 1 to 4294967295" },
        { """{"myASN":4294967296,"peerASN":64513,"peerAddress":"198.51.100.1"}""", "spec.myASN", "4294967296 is not an AS number (1 to 4294967295)" },
        { """{"myASN":-1,"peerASN":64513,"peerAddress":"198.51.100.1"}""", "spec.myASN", "-1 is not an AS number (1 to 4294967295)" },
        { """{"myASN":64512,"peerAddress":"198.51.100.1"}""", "spec.peerASN", "one of peerASN and dynamicASN must be set" },
        { """{"myASN":64512,"peerASN":0,"peerAddress":"198.51.100.1"}""", "spec.peerASN", "one of peerASN and dynamicASN must be set" },
        { """{"myASN":64512,"peerASN":4294967296,"peerAddress":"198.51.100.1"}""", "spec.peerASN", "4294967296 is not an AS number (1 to 4294967295)" },
        { """{"myASN":64512,"peerASN":64513,"dynamicASN":"external","peerAddress":"198.51.100.1"}""", "spec.dynamicASN", "must not be set together with peerASN" },
        { """{"myASN":64512,"dynamicASN":"sometimes","peerAddress":"198.51.100.1"}""", "spec.dynamicASN", "\"sometimes\" is neither \"internal\" nor \"external\"" },
        { """{"myASN":64512,"peerASN":64513}""", "spec.peerAddress", "one of peerAddress and interface must be set" },
        { """{"myASN":64512,"peerASN":64513,"peerAddress":"198.51.100.1","interface":"eth0"}""", "spec.interface", "must not be set together with peerAddress" },
        { """{"myASN":64512,"peerASN":64513,"peerAddress":"198.51.100"}""", "spec.peerAddress", "\"198.51.100\" is not an IPv4 or IPv6 address" },
        { """{"myASN":64512,"peerASN":64513,"peerAddress":"198.051.100.1"}""", "spec.peerAddress", "\"198.051.100.1\" is not an IPv4 or IPv6 address" },
        { """{"myASN":64512,"peerASN":64513,"peerAddress":"2001:db8::1%eth0"}""", "spec.peerAddress", "\"2001:db8::1%eth0\" is not an IPv4 or IPv6 address" },
        { """{"myASN":64512,"peerASN":64513,"peerAddress":"router.example"}""", "spec.peerAddress", "\"router.example\" is not an IPv4 or IPv6 address" },
        { """{"myASN":64512,"peerASN":64513,"interface":"eth0:1"}""", "spec.interface", "interface name \"eth0:1\" contains ':', which Linux does not allow" },
        { """{"myASN":64512,"peerASN":64513,"interface":"enp0s31f6-uplink"}""", "spec.interface", "interface name \"enp0s31f6-uplink\" is longer than 15 bytes (Linux IFNAMSIZ)" },
        { Spec("'sourceAddress':'2001:db8::1'"), "spec.sourceAddress", "2001:db8::1 and peerAddress 198.51.100.1 are of different IP families" },
        { Spec("'sourceAddress':'198.51.100.300'"), "spec.sourceAddress", "\"198.51.100.300\" is not an IPv4 or IPv6 address" },
        { Spec("'peerPort':16385"), "spec.peerPort", "16385 is out of range 0-16384 (0 means 179)" },
        { Spec("'peerPort':-1"), "spec.peerPort", "-1 is out of range 0-16384 (0 means 179)" },
        { Spec("'holdTime':'2s'"), "spec.holdTime", "hold time 2s (2s) must be 0 or at least 3s" },
        { Spec("'holdTime':'2.9s'"), "spec.holdTime", "hold time 2s (2.9s) must be 0 or at least 3s" },
        { Spec("'holdTime':'19h'"), "spec.holdTime", "hold time 68400s (19h) exceeds 65535s, the most a BGP OPEN message can carry" },
        { Spec("'holdTime':'abc'"), "spec.holdTime", "\"abc\" is not a duration: expected a number at \"abc\"" },
        { Spec("'holdTime':'90'"), "spec.holdTime", "\"90\" is not a duration: \"90\" has no unit (ns, us, ms, s, m or h)" },
        { Spec("'holdTime':'90sec'"), "spec.holdTime", "\"90sec\" is not a duration: unknown unit \"sec\" (ns, us, ms, s, m or h)" },
        { Spec("'holdTime':'-90s'"), "spec.holdTime", "-90s is negative" },
        { Spec("'holdTime':'90s','keepaliveTime':'90s'"), "spec.keepaliveTime", "90s must be shorter than holdTime 90s" },
        { Spec("'holdTime':'30s','keepaliveTime':'1m'"), "spec.keepaliveTime", "1m must be shorter than holdTime 30s" },
        { Spec("'holdTime':'0s','keepaliveTime':'10s'"), "spec.keepaliveTime", "10s must be 0 when holdTime is 0 (a zero hold time disables keepalives)" },
        { Spec("'keepaliveTime':'0.5s'"), "spec.keepaliveTime", "hold time 1s (three times keepaliveTime 0.5s) must be 0 or at least 3s" },
        { Spec("'keepaliveTime':'1.2..s'"), "spec.keepaliveTime", "\"1.2..s\" is not a duration: expected a number at \"1.2..s\"" },
        { Spec("'connectTime':'0s'"), "spec.connectTime", "0s must be a whole number of seconds from 1s to 65535s" },
        { Spec("'connectTime':'1500ms'"), "spec.connectTime", "1500ms must be a whole number of seconds from 1s to 65535s" },
        { Spec("'connectTime':'65536s'"), "spec.connectTime", "65536s must be a whole number of seconds from 1s to 65535s" },
        { Spec("'routerID':'2001:db8::1'"), "spec.routerID", "\"2001:db8::1\" is not an IPv4 address (the BGP identifier is 32 bits)" },
        { Spec("'routerID':'0.0.0.0'"), "spec.routerID", "0.0.0.0 is not a valid BGP identifier" },
        { """{"myASN":64512,"peerASN":64512,"peerAddress":"198.51.100.1","ebgpMultiHop":true}""", "spec.ebgpMultiHop",
            "applies to eBGP only, but peerASN equals myASN (64512), which makes this an iBGP session" },
        { """{"myASN":64512,"dynamicASN":"internal","peerAddress":"198.51.100.1","ebgpMultiHop":true}""", "spec.ebgpMultiHop",
            "applies to eBGP only, but dynamicASN is internal" },
        { Spec("'password':'secret','passwordSecret':{'name':'bgp-password'}"), "spec.passwordSecret", "must not be set together with password" },
        { Spec("'passwordSecret':{'namespace':'barelb-system'}"), "spec.passwordSecret.name", "must be set" },
        { Spec("'passwordSecret':{'name':'Bad_Name'}"), "spec.passwordSecret.name",
            "\"Bad_Name\" is not a valid object name: lower-case letters, digits, '-' and '.' only, each dot-separated part starting and ending with a letter or digit" },
        { Spec("'passwordSecret':{'name':'bgp-password','namespace':'other'}"), "spec.passwordSecret.namespace",
            "\"other\" is not the BGPPeer's namespace \"barelb-system\"; secrets are read only from there" },
        { Spec("'password':'" + new string('x', 81) + "'"), "spec.password", "is longer than 80 bytes, the TCP MD5 key limit" },
        { Spec("'bfdProfile':'Fast Profile'"), "spec.bfdProfile",
            "\"Fast Profile\" is not a valid object name: lower-case letters, digits, '-' and '.' only, each dot-separated part starting and ending with a letter or digit" },
        { Spec("'vrf':'red/blue'"), "spec.vrf", "VRF name \"red/blue\" contains '/', which Linux does not allow" },
        { Spec("'vrf':''"), "spec.vrf", "VRF name must not be empty" },
        { Spec("'nodeSelectors':[{'matchExpressions':[{'key':'rack','operator':'Exists','values':['r1']}]}]"),
            "spec.nodeSelectors[0].matchExpressions[0].values", "Exists takes no values" },
        { Spec("'nodeSelectors':[{},{}]"), "spec.nodeSelectors[1]", "duplicates spec.nodeSelectors[0]" },
    };

    [Theory]
    [MemberData(nameof(InvalidPeers))]
    public void Validate_InvalidSpec_ReportsFieldAndReason(string spec, string field, string reason)
    {
        var result = BgpPeerValidator.Validate(Objects.Peer(spec));

        Assert.False(result.IsValid);
        Assert.Equal([new ValidationError(field, reason)], result.Errors);
    }

    [Fact]
    public void Validate_MinimalPeer_AppliesDefaults()
    {
        var result = BgpPeerValidator.Validate(Objects.Peer(Spec("")));

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var peer = result.Value;
        Assert.Equal("peer", peer.Name);
        Assert.Equal(64512u, peer.MyAsn);
        Assert.Equal(64513u, peer.PeerAsn);
        Assert.Null(peer.DynamicAsn);
        Assert.Equal(IPAddress.Parse("198.51.100.1"), peer.Address);
        Assert.Equal(179, peer.Port);
        Assert.Null(peer.HoldTime);
        Assert.Null(peer.KeepaliveTime);
        Assert.Empty(peer.NodeSelectors);
        Assert.False(peer.IsInternal);
        Assert.True(peer.SelectsNode(new Dictionary<string, string>()));
    }

    [Theory]
    [InlineData("\"holdTime\":\"90s\"", 90, 30)]
    [InlineData("\"keepaliveTime\":\"20s\"", 60, 20)]
    [InlineData("\"holdTime\":\"9m0s\",\"keepaliveTime\":\"0s\"", 540, 0)]
    [InlineData("\"holdTime\":\"0s\"", 0, 0)]
    [InlineData("\"holdTime\":\"3.7s\",\"keepaliveTime\":\"1s\"", 3, 1)]
    [InlineData("\"holdTime\":\"65535s\",\"keepaliveTime\":\"1h\"", 65535, 3600)]
    public void Validate_Timers_DeriveTheMissingOneAsMetalLBDoes(string timers, int holdSeconds, int keepaliveSeconds)
    {
        var result = BgpPeerValidator.Validate(Objects.Peer(Spec(timers)));

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(TimeSpan.FromSeconds(holdSeconds), result.Value.HoldTime);
        Assert.Equal(TimeSpan.FromSeconds(keepaliveSeconds), result.Value.KeepaliveTime);
    }

    [Fact]
    public void Validate_EveryOptionalField_IsCarriedOver()
    {
        var result = BgpPeerValidator.Validate(Objects.Peer("""
            {"myASN":4294967295,"dynamicASN":"external","peerAddress":"2001:db8::2","sourceAddress":"2001:db8::1",
             "peerPort":1179,"connectTime":"10s","routerID":"198.51.100.7","nodeSelectors":[{"matchLabels":{"rack":"r1"}}],
             "passwordSecret":{"name":"bgp-password","namespace":"barelb-system"},"bfdProfile":"fast","enableGracefulRestart":true,
             "ebgpMultiHop":true,"vrf":"red","disableMP":true,"dualStackAddressFamily":true}
            """));

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var peer = result.Value;
        Assert.Equal(uint.MaxValue, peer.MyAsn);
        Assert.Null(peer.PeerAsn);
        Assert.Equal(DynamicAsnMode.External, peer.DynamicAsn);
        Assert.Equal(IPAddress.Parse("2001:db8::2"), peer.Address);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), peer.SourceAddress);
        Assert.Equal(1179, peer.Port);
        Assert.Equal(TimeSpan.FromSeconds(10), peer.ConnectTime);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), peer.RouterId);
        Assert.True(peer.SelectsNode(new Dictionary<string, string> { ["rack"] = "r1" }));
        Assert.False(peer.SelectsNode(new Dictionary<string, string> { ["rack"] = "r2" }));
        Assert.Equal(new SecretKeyReference("barelb-system", "bgp-password"), peer.PasswordSecret);
        Assert.Null(peer.Password);
        Assert.Equal("fast", peer.BfdProfile);
        Assert.True(peer.EnableGracefulRestart);
        Assert.True(peer.EbgpMultiHop);
        Assert.Equal("red", peer.Vrf);
        Assert.True(peer.DisableMP);
        Assert.True(peer.DualStackAddressFamily);
        Assert.False(peer.IsInternal);
    }

    [Fact]
    public void Validate_UnnumberedPeer_HasInterfaceAndNoAddress()
    {
        var result = BgpPeerValidator.Validate(Objects.Peer("""{"myASN":64512,"dynamicASN":"internal","interface":"eth1"}"""));

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Null(result.Value.Address);
        Assert.Equal("eth1", result.Value.Interface);
        Assert.True(result.Value.IsInternal);
    }

    [Fact]
    public void Validate_EmptyPasswordSecretAsMetalLBWritesIt_MeansNoSecret()
    {
        var result = BgpPeerValidator.Validate(Objects.Peer(Spec("'password':'secret','passwordSecret':{}")));

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal("secret", result.Value.Password);
        Assert.Null(result.Value.PasswordSecret);
    }

    [Fact]
    public void Validate_SecretWithoutNamespace_IsReadFromThePeersNamespace()
    {
        var result = BgpPeerValidator.Validate(Objects.Peer(Spec("'passwordSecret':{'name':'bgp-password'}")));

        Assert.Equal(new SecretKeyReference(Objects.Namespace, "bgp-password"), result.Value!.PasswordSecret);
    }
}
