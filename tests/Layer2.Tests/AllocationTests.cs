namespace BareLb.Layer2.Tests;

public sealed class AllocationTests
{
    [Theory]
    [InlineData("arp")]
    [InlineData("ns")]
    [InlineData("ns-unicast-no-option")]
    [InlineData("not-owned")]
    public void Respond_AnsweredRequest_AllocatesNothing(string kind)
    {
        var responder = new NeighborResponder(TestFrames.NodeMac) { Owned = OwnedSet.Create([TestFrames.OwnedV4, TestFrames.OwnedV6]) };
        var request = kind switch
        {
            "arp" => TestFrames.ArpRequest(TestFrames.OwnedV4),
            "ns" => TestFrames.NeighborSolicitation(TestFrames.OwnedV6),
            "ns-unicast-no-option" => TestFrames.NeighborSolicitation(TestFrames.OwnedV6, withLinkLayer: false, unicast: true),
            _ => TestFrames.ArpRequest(TestFrames.OtherV4),
        };
        var reply = new byte[NeighborResponder.MaxReplyLength];
        var expected = kind == "not-owned" ? FrameOutcome.NotOwned : FrameOutcome.Answered;
        for (var i = 0; i < 1000; i++)
        {
            responder.Respond(request, reply, out _);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var answered = 0;
        for (var i = 0; i < 10_000; i++)
        {
            if (responder.Respond(request, reply, out _) == expected)
            {
                answered++;
            }
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(10_000, answered);
        Assert.Equal(0, allocated);
    }
}
