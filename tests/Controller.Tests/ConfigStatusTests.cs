using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using k8s.Models;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>
/// The speakers' configuration objects say whether they are valid: a Valid condition naming the field and the
/// reason, and one Warning event per new problem, since no admission webhook refuses them.
/// </summary>
public sealed class ConfigStatusTests
{
    [Fact]
    public async Task InvalidBgpPeer_ValidFalseNamingTheFieldAndOneEvent_FixedValidTrue()
    {
        await using var f = await StartAsync(startController: false);
        await using var replica = new ControllerReplica(f, "replica-a");
        replica.Start();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.Client.CreateAsync(BareLbResources.BGPPeers, new BGPPeer
        {
            Kind = "BGPPeer",
            Metadata = new V1ObjectMeta { Name = "router", NamespaceProperty = SystemNamespace },
            Spec = new BGPPeerSpec { MyASN = 64512, PeerASN = 64513, PeerAddress = "198.51.100.1", HoldTime = "2s" },
        }, default);

        var invalid = await EventuallyAsync(async () =>
        {
            var peer = await f.Client.GetAsync(BareLbResources.BGPPeers, SystemNamespace, "router", default);
            return peer.Status?.Conditions?.FirstOrDefault(c => c.Type == ConfigConditions.Valid && c.Status == "False");
        }, "Valid=False on the peer");
        Assert.Equal(ConfigConditions.ReasonInvalidSpec, invalid.Reason);
        Assert.Contains("spec.holdTime", invalid.Message, StringComparison.Ordinal);
        var warnings = await EventuallyAsync(async () =>
        {
            var list = (await f.Client.ListAsync(CoreResources.Events, SystemNamespace, null, default)).Items
                .Where(e => e.Reason == "InvalidConfiguration" && e.InvolvedObject.Name == "router").ToList();
            return list.Count > 0 ? list : null;
        }, "an InvalidConfiguration event");
        Assert.Single(warnings);

        await f.Client.PatchAsync(BareLbResources.BGPPeers, SystemNamespace, "router",
            JsonNode.Parse("""{"spec":{"holdTime":"9s"}}""")!, status: false, default);

        await EventuallyAsync(async () =>
        {
            var peer = await f.Client.GetAsync(BareLbResources.BGPPeers, SystemNamespace, "router", default);
            return peer.Status?.Conditions?.FirstOrDefault(c => c.Type == ConfigConditions.Valid && c.Status == "True");
        }, "Valid=True after the fix");
    }
}
