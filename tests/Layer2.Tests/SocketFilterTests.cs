using BareLb.Layer2.Bpf;

namespace BareLb.Layer2.Tests;

/// <summary>The socket filters run in a small classic-BPF interpreter that follows the kernel's semantics for the instructions they use.</summary>
public sealed class SocketFilterTests
{
    private const uint Host = 0, Broadcast = 1, Multicast = 2, OtherHost = 3, Outgoing = 4;

    public static TheoryData<string, bool, bool> Frames => new()
    {
        // frame, passes the ARP filter, passes the NDP filter
        { "ARP request", true, false },
        { "ARP request with a bad hardware type", true, false },
        { "ARP reply", false, false },
        { "ARP request cut before its opcode", false, false },
        { "NS", false, true },
        { "NS with a bad checksum", false, true },
        { "NS with an option of length 0", false, true },
        { "NA", false, false },
        { "UDP over IPv6", false, false },
        { "IPv4", false, false },
        { "empty", false, false },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void Filters_Frame_PassOnlyTheirKind(string frame, bool arp, bool ndp)
    {
        var bytes = Build(frame);

        Assert.Equal(arp ? SocketFilters.AcceptLength : 0, ClassicBpf.Run(SocketFilters.ArpRequests, bytes, Broadcast, vlanTagPresent: false));
        Assert.Equal(ndp ? SocketFilters.AcceptLength : 0, ClassicBpf.Run(SocketFilters.NeighborSolicitations, bytes, Multicast, vlanTagPresent: false));
    }

    [Theory]
    [InlineData(Host, true)]
    [InlineData(Broadcast, true)]
    [InlineData(Multicast, true)]
    [InlineData(OtherHost, false)]
    [InlineData(Outgoing, false)]
    public void Filters_PacketType_OnlyInbound(uint packetType, bool passes)
    {
        Assert.Equal(passes, ClassicBpf.Run(SocketFilters.ArpRequests, Build("ARP request"), packetType, false) != 0);
        Assert.Equal(passes, ClassicBpf.Run(SocketFilters.NeighborSolicitations, Build("NS"), packetType, false) != 0);
    }

    [Fact]
    public void Filters_VlanTagStillPresent_Drop()
    {
        Assert.Equal(0u, ClassicBpf.Run(SocketFilters.ArpRequests, Build("ARP request"), Broadcast, vlanTagPresent: true));
        Assert.Equal(0u, ClassicBpf.Run(SocketFilters.NeighborSolicitations, Build("NS"), Multicast, vlanTagPresent: true));
    }

    [Fact]
    public void Filters_EveryJump_LandsInsideTheProgram()
    {
        foreach (var program in new[] { SocketFilters.ArpRequests, SocketFilters.NeighborSolicitations })
        {
            for (var i = 0; i < program.Count; i++)
            {
                var instruction = program[i];
                if ((instruction.Code & 0x07) == BpfInstruction.Jmp)
                {
                    Assert.InRange(i + 1 + instruction.JumpTrue, 0, program.Count - 1);
                    Assert.InRange(i + 1 + instruction.JumpFalse, 0, program.Count - 1);
                }
            }
            Assert.Equal(BpfInstruction.Ret, program[^1].Code & 0x07);
        }
    }

    private static byte[] Build(string frame)
    {
        switch (frame)
        {
            case "ARP request": return TestFrames.ArpRequest(TestFrames.OwnedV4);
            case "ARP request with a bad hardware type": { var f = TestFrames.ArpRequest(TestFrames.OwnedV4); f[15] = 6; return f; }
            case "ARP reply": { var f = TestFrames.ArpRequest(TestFrames.OwnedV4); f[21] = 2; return f; }
            case "ARP request cut before its opcode": return TestFrames.ArpRequest(TestFrames.OwnedV4)[..21];
            case "NS": return TestFrames.NeighborSolicitation(TestFrames.OwnedV6);
            case "NS with a bad checksum": { var f = TestFrames.NeighborSolicitation(TestFrames.OwnedV6); f[56] ^= 0xFF; return f; }
            case "NS with an option of length 0": { var f = TestFrames.NeighborSolicitation(TestFrames.OwnedV6); f[79] = 0; return f; }
            case "NA": { var f = TestFrames.NeighborSolicitation(TestFrames.OwnedV6); f[54] = 136; return f; }
            case "UDP over IPv6": { var f = TestFrames.NeighborSolicitation(TestFrames.OwnedV6); f[20] = 17; return f; }
            case "IPv4": { var f = TestFrames.ArpRequest(TestFrames.OwnedV4); f[13] = 0; return f; }
            case "empty": return [];
            default: throw new ArgumentOutOfRangeException(nameof(frame));
        }
    }
}

/// <summary>
/// The subset of the kernel's classic BPF (net/core/filter.c) that socket filters use here: absolute loads of
/// 1, 2 and 4 octets (a load past the end rejects the frame, returning 0), the packet-type and VLAN-present
/// ancillary loads, jeq/jgt against a constant, and return of a constant.
/// </summary>
internal static class ClassicBpf
{
    public static uint Run(IReadOnlyList<BpfInstruction> program, ReadOnlySpan<byte> packet, uint packetType, bool vlanTagPresent)
    {
        uint a = 0;
        for (var pc = 0; pc < program.Count; pc++)
        {
            var i = program[pc];
            switch (i.Code)
            {
                case BpfInstruction.Ld | BpfInstruction.W | BpfInstruction.Abs when i.K == BpfInstruction.AncillaryPacketType:
                    a = packetType;
                    break;
                case BpfInstruction.Ld | BpfInstruction.W | BpfInstruction.Abs when i.K == BpfInstruction.AncillaryVlanTagPresent:
                    a = vlanTagPresent ? 1u : 0u;
                    break;
                case BpfInstruction.Ld | BpfInstruction.W | BpfInstruction.Abs:
                case BpfInstruction.Ld | BpfInstruction.H | BpfInstruction.Abs:
                case BpfInstruction.Ld | BpfInstruction.B | BpfInstruction.Abs:
                    var size = (i.Code & 0x18) switch { BpfInstruction.W => 4, BpfInstruction.H => 2, _ => 1 };
                    if (i.K >= 0x8000_0000 || i.K + size > packet.Length)
                    {
                        return 0;
                    }
                    a = 0;
                    for (var b = 0; b < size; b++)
                    {
                        a = a << 8 | packet[(int)i.K + b];
                    }
                    break;
                case BpfInstruction.Jmp | BpfInstruction.Jeq:
                    pc += a == i.K ? i.JumpTrue : i.JumpFalse;
                    break;
                case BpfInstruction.Jmp | BpfInstruction.Jgt:
                    pc += a > i.K ? i.JumpTrue : i.JumpFalse;
                    break;
                case BpfInstruction.Ret:
                    return i.K;
                default:
                    throw new NotSupportedException($"instruction {i} at {pc} is outside the interpreted subset");
            }
        }
        throw new InvalidOperationException("the program ran off its end; the kernel would reject it");
    }
}
