using System.Net;
using FsCheck;
using FsCheck.Fluent;
using PacketDotNet;
using PacketDotNet.Ndp;

namespace BareLb.Layer2.Tests;

/// <summary>PacketDotNet, an independent implementation, decodes the replies our codecs build for random requests.</summary>
public sealed class PacketDotNetOracleTests
{
    private static readonly Gen<MacAddress> UnicastMac =
        ArbMap.Default.GeneratorFor<byte[]>().Where(b => b.Length >= 6)
            .Select(b => { b[0] &= 0xFE; return MacAddress.Read(b); });

    private static readonly Gen<IPAddress> Ipv4 =
        ArbMap.Default.GeneratorFor<uint>().Select(IpAddresses.FromIPv4);

    private static readonly Gen<IPAddress> UnicastIpv6 =
        ArbMap.Default.GeneratorFor<byte[]>().Where(b => b.Length >= 16)
            .Select(b => { b[0] = (byte)(b[0] == 0xFF ? 0x20 : b[0]); return new IPAddress(b[..16]); })
            .Where(a => !a.Equals(IPAddress.IPv6Any));

    [Fact]
    public void ArpReply_RandomRequest_PacketDotNetReadsTheAnswer()
    {
        var gen = from node in UnicastMac
                  from client in UnicastMac
                  from owned in Ipv4
                  from sender in Ipv4
                  where !owned.Equals(sender)
                  select (node, client, owned, sender);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(Arb.From(gen), input =>
        {
            var (node, client, owned, sender) = input;
            var responder = new NeighborResponder(node) { Owned = OwnedSet.Create([owned]) };
            var reply = new byte[NeighborResponder.MaxReplyLength];
            var outcome = responder.Respond(TestFrames.ArpRequest(owned, sender, client), reply, out var written);
            Assert.Equal(FrameOutcome.Answered, outcome);

            var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, reply[..written]);
            var arp = ethernet.Extract<PacketDotNet.ArpPacket>();
            Assert.Equal(client.ToString(), Mac(ethernet.DestinationHardwareAddress));
            Assert.Equal(node.ToString(), Mac(ethernet.SourceHardwareAddress));
            Assert.Equal(ArpOperation.Response, arp.Operation);
            Assert.Equal(node.ToString(), Mac(arp.SenderHardwareAddress));
            Assert.Equal(owned, arp.SenderProtocolAddress);
            Assert.Equal(client.ToString(), Mac(arp.TargetHardwareAddress));
            Assert.Equal(sender, arp.TargetProtocolAddress);
        }));
    }

    [Fact]
    public void NeighborAdvertisement_RandomSolicitation_PacketDotNetReadsTheAnswerAndChecksum()
    {
        var gen = from node in UnicastMac
                  from client in UnicastMac
                  from owned in UnicastIpv6
                  from sender in UnicastIpv6
                  from withLinkLayer in ArbMap.Default.GeneratorFor<bool>()
                  from dad in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
                  select (node, client, owned, sender, withLinkLayer, dad);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(Arb.From(gen), input =>
        {
            var (node, client, owned, sender, withLinkLayer, dad) = input;
            var responder = new NeighborResponder(node) { Owned = OwnedSet.Create([owned]) };
            var request = TestFrames.NeighborSolicitation(owned, withLinkLayer, dad: dad, source: sender);
            new MacAddress[] { client }[0].WriteTo(request.AsSpan(6));
            if (withLinkLayer && !dad)
            {
                client.WriteTo(request.AsSpan(80));
                TestFrames.FixIcmpChecksum(request);
            }
            var reply = new byte[NeighborResponder.MaxReplyLength];
            Assert.Equal(FrameOutcome.Answered, responder.Respond(request, reply, out var written));

            var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, reply[..written]);
            var ip = ethernet.Extract<IPv6Packet>();
            var icmp = ethernet.Extract<IcmpV6Packet>();
            var na = ethernet.Extract<NdpNeighborAdvertisementPacket>();
            Assert.NotNull(na);
            Assert.Equal(dad ? "33:33:00:00:00:01" : client.ToString(), Mac(ethernet.DestinationHardwareAddress));
            Assert.Equal(255, ip.HopLimit);
            Assert.Equal(owned, ip.SourceAddress);
            Assert.Equal(dad ? IPAddress.Parse("ff02::1") : sender, ip.DestinationAddress);
            Assert.Equal(IcmpV6Type.NeighborAdvertisement, icmp.Type);
            Assert.Equal(0, icmp.Code);
            Assert.True(icmp.ValidIcmpChecksum);
            Assert.Equal(!dad, na.Solicited);
            Assert.True(na.Override);
            Assert.False(na.Router);
            Assert.Equal(owned, na.TargetAddress);
            var option = Assert.Single(na.OptionsCollection.OfType<NdpLinkLayerAddressOption>());
            Assert.Equal(node.ToString(), Mac(option.LinkLayerAddress));
        }));
    }

    private static string Mac(System.Net.NetworkInformation.PhysicalAddress address) =>
        string.Join(':', address.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}
