using System.Runtime.InteropServices;

namespace BareLb.Layer2.Bpf;

/// <summary>One classic BPF instruction, laid out as the kernel's <c>struct sock_filter</c> (8 octets, host order).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfInstruction(ushort Code, byte JumpTrue, byte JumpFalse, uint K)
{
    // Instruction classes, sizes, modes and operations from linux/filter.h (uapi/linux/bpf_common.h).
    public const ushort Ld = 0x00;
    public const ushort Jmp = 0x05;
    public const ushort Ret = 0x06;
    public const ushort W = 0x00;
    public const ushort H = 0x08;
    public const ushort B = 0x10;
    public const ushort Abs = 0x20;
    public const ushort Jeq = 0x10;
    public const ushort Jgt = 0x20;
    public const ushort SourceConstant = 0x00;

    /// <summary>Loads at <c>SKF_AD_OFF + n</c> read socket-buffer metadata instead of packet bytes.</summary>
    public const uint AncillaryOffset = unchecked((uint)-0x1000);
    public const uint AncillaryPacketType = AncillaryOffset + 4;
    public const uint AncillaryVlanTagPresent = AncillaryOffset + 48;

    public static BpfInstruction LoadWord(uint offset) => new(Ld | W | Abs, 0, 0, offset);

    public static BpfInstruction LoadHalf(uint offset) => new(Ld | H | Abs, 0, 0, offset);

    public static BpfInstruction LoadByte(uint offset) => new(Ld | B | Abs, 0, 0, offset);

    public static BpfInstruction JumpIfEqual(uint value, byte ifTrue, byte ifFalse) => new(Jmp | Jeq | SourceConstant, ifTrue, ifFalse, value);

    public static BpfInstruction JumpIfGreater(uint value, byte ifTrue, byte ifFalse) => new(Jmp | Jgt | SourceConstant, ifTrue, ifFalse, value);

    public static BpfInstruction Return(uint length) => new(Ret | SourceConstant, 0, 0, length);
}
