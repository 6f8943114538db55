using System.Text;
using BareLb.Layer2.Linux;

namespace BareLb.Layer2.Tests;

public sealed class RtnetlinkLinksTests
{
    [Fact]
    public void Read_NewLinkThenDone_ParsesEveryField()
    {
        var datagram = Message(16, 7, Link(5, 1, 0x1 | 0x1000 | 0x1_0000,
            Attribute(3, Encoding.ASCII.GetBytes("eth2\0")),
            Attribute(1, [2, 0, 0, 0, 0, 0x2a]),
            Attribute(10, BitConverter.GetBytes(4)),
            Attribute(18 | 0x8000, Attribute(1, Encoding.ASCII.GetBytes("vlan\0")))))
            .Concat(Message(3, 7, new byte[4])).ToArray();
        var links = new List<LinkInfo>();

        var status = RtnetlinkLinks.Read(datagram, 7, links, out _);

        Assert.Equal(RtnetlinkLinks.Status.Done, status);
        var link = Assert.Single(links);
        Assert.Equal(new LinkInfo(5, "eth2", MacAddress.Parse("02:00:00:00:00:2a"), LinkFlags.Up | LinkFlags.LowerUp, 4, "vlan", 1), link);
    }

    [Fact]
    public void Read_OtherSequence_Skipped()
    {
        var datagram = Message(16, 99, Link(5, 1, 1, Attribute(3, Encoding.ASCII.GetBytes("eth2\0"))));
        var links = new List<LinkInfo>();

        Assert.Equal(RtnetlinkLinks.Status.More, RtnetlinkLinks.Read(datagram, 7, links, out _));
        Assert.Empty(links);
    }

    [Fact]
    public void Read_KernelError_ReturnsErrno()
    {
        var datagram = Message(2, 7, BitConverter.GetBytes(-1).Concat(new byte[16]).ToArray());

        Assert.Equal(RtnetlinkLinks.Status.Error, RtnetlinkLinks.Read(datagram, 7, [], out var error));
        Assert.Equal(1, error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(1000)]
    public void Read_BadMessageLength_Malformed(int length)
    {
        var datagram = Message(16, 7, Link(5, 1, 1, Attribute(3, Encoding.ASCII.GetBytes("eth2\0"))));
        BitConverter.GetBytes(length).CopyTo(datagram, 0);

        Assert.Equal(RtnetlinkLinks.Status.Malformed, RtnetlinkLinks.Read(datagram, 7, [], out _));
    }

    [Fact]
    public void TryReadLink_RandomBytes_NeverThrows()
    {
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var body = new byte[random.Next(0, 80)];
            random.NextBytes(body);
            _ = RtnetlinkLinks.TryReadLink(body);
            _ = RtnetlinkLinks.Read(body, 7, [], out _);
        }
    }

    private static byte[] Message(ushort type, uint sequence, byte[] body)
    {
        var message = new byte[16 + body.Length + (4 - body.Length % 4) % 4];
        BitConverter.GetBytes(16 + body.Length).CopyTo(message, 0);
        BitConverter.GetBytes(type).CopyTo(message, 4);
        BitConverter.GetBytes(sequence).CopyTo(message, 8);
        body.CopyTo(message, 16);
        return message;
    }

    private static byte[] Link(int index, ushort hardwareType, uint flags, params byte[][] attributes)
    {
        var header = new byte[16];
        BitConverter.GetBytes(hardwareType).CopyTo(header, 2);
        BitConverter.GetBytes(index).CopyTo(header, 4);
        BitConverter.GetBytes(flags).CopyTo(header, 8);
        return header.Concat(attributes.SelectMany(a => a)).ToArray();
    }

    private static byte[] Attribute(int type, byte[] value)
    {
        var attribute = new byte[4 + value.Length + (4 - value.Length % 4) % 4];
        BitConverter.GetBytes((ushort)(4 + value.Length)).CopyTo(attribute, 0);
        BitConverter.GetBytes((ushort)type).CopyTo(attribute, 2);
        value.CopyTo(attribute, 4);
        return attribute;
    }
}
