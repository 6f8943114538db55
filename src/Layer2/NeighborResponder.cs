using BareLb.Layer2.Arp;
using BareLb.Layer2.Ndp;

namespace BareLb.Layer2;

/// <summary>
/// Decides, for one interface, what to answer to a received frame: an ARP reply or a Neighbor Advertisement for an
/// owned address, or the reason for staying silent. No I/O; never throws on any frame; allocates nothing.
/// </summary>
public sealed class NeighborResponder(MacAddress mac)
{
    /// <summary>Large enough for any reply: an ARP reply is 42 octets, a Neighbor Advertisement 86.</summary>
    public const int MaxReplyLength = NeighborAdvertisement.FrameLength;

    private volatile OwnedSet _owned = OwnedSet.Empty;

    public MacAddress Mac { get; } = mac;

    public OwnedSet Owned
    {
        get => _owned;
        set => _owned = value ?? OwnedSet.Empty;
    }

    public FrameOutcome Respond(ReadOnlySpan<byte> frame, Span<byte> reply, out int written)
    {
        written = 0;
        if (reply.Length < MaxReplyLength)
        {
            throw new ArgumentException($"the reply buffer must hold {MaxReplyLength} octets", nameof(reply));
        }
        if (!EthernetFrame.TryRead(frame, out var ethernet))
        {
            return FrameOutcome.EthernetTruncated;
        }
        if (ethernet.Source == Mac)
        {
            return FrameOutcome.FromSelf;
        }
        return ethernet.EtherType switch
        {
            EthernetFrame.EtherTypeArp => RespondArp(ethernet.Payload, reply, out written),
            EthernetFrame.EtherTypeIPv6 => RespondNdp(ethernet, reply, out written),
            _ => FrameOutcome.UnsupportedProtocol,
        };
    }

    private FrameOutcome RespondArp(ReadOnlySpan<byte> payload, Span<byte> reply, out int written)
    {
        written = 0;
        var outcome = ArpPacket.TryRead(payload, out var request);
        if (outcome != FrameOutcome.Answered)
        {
            return outcome;
        }
        if (request.Operation != ArpPacket.OperationRequest)
        {
            return FrameOutcome.NotARequest;
        }
        if (request.SenderProtocol == request.TargetProtocol)
        {
            // Someone announcing the address (gratuitous ARP). An ARP probe (sender 0.0.0.0) is a question and is
            // answered below, as Linux does, so that the prober sees the address is taken.
            return FrameOutcome.Announcement;
        }
        if (!_owned.Contains(request.TargetProtocol))
        {
            return FrameOutcome.NotOwned;
        }
        var answer = new ArpPacket
        {
            Operation = ArpPacket.OperationReply,
            SenderHardware = Mac,
            SenderProtocol = request.TargetProtocol,
            TargetHardware = request.SenderHardware,
            TargetProtocol = request.SenderProtocol,
        };
        answer.TryWriteFrame(reply, request.SenderHardware, Mac, out written);
        return FrameOutcome.Answered;
    }

    private FrameOutcome RespondNdp(EthernetFrame ethernet, Span<byte> reply, out int written)
    {
        written = 0;
        var outcome = NeighborSolicitation.TryRead(ethernet.Payload, out var solicitation);
        if (outcome != FrameOutcome.Answered)
        {
            return outcome;
        }
        if (!_owned.Contains(solicitation.Target))
        {
            return FrameOutcome.NotOwned;
        }
        NeighborAdvertisement answer;
        MacAddress to;
        if (solicitation.IsDadProbe)
        {
            // RFC 4861 §7.2.4: a prober has no address to answer to; tell every node, Solicited clear.
            answer = new NeighborAdvertisement
            {
                Source = solicitation.Target,
                Destination = IpAddresses.AllNodes,
                Target = solicitation.Target,
                Solicited = false,
                Override = true,
                TargetLinkLayer = Mac,
            };
            to = MacAddress.ForIPv6Multicast(IpAddresses.AllNodes);
        }
        else
        {
            answer = new NeighborAdvertisement
            {
                Source = solicitation.Target,
                Destination = solicitation.Source,
                Target = solicitation.Target,
                Solicited = true,
                Override = true,
                TargetLinkLayer = Mac,
            };
            // Without a source link-layer option (e.g. a unicast reachability probe) answer the frame's sender.
            to = solicitation.SourceLinkLayer ?? ethernet.Source;
        }
        answer.TryWriteFrame(reply, to, Mac, out written);
        return FrameOutcome.Answered;
    }
}
