using System.Net;
using BareLb.Membership.Protocol;
using BareLb.Membership.Wire;
using BenchmarkDotNet.Attributes;

namespace BareLb.Membership.Benchmarks;

/// <summary>
/// What one membership datagram costs, side by side with its floor: the HMAC-SHA256 of a ping-sized packet
/// (baseline). Writing a ping, opening and verifying one, and the whole receive path of the protocol (parse,
/// authenticate, replay check, answer with a signed Ack) should be a small multiple of it and allocate nothing.
/// </summary>
// In-process: BenchmarkDotNet 0.14 cannot generate a net10.0 project of its own.
[InProcess]
[MemoryDiagnoser]
public class PacketPathBenchmarks
{
    private const int Batch = 20_000;
    private const long Frequency = 1_000_000_000;
    private static readonly byte[] Key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private static readonly byte[] Receiver = "node-a"u8.ToArray();
    private static readonly byte[] Sender = "node-b"u8.ToArray();

    private readonly byte[] _buffer = new byte[1400];
    private readonly byte[] _tag = new byte[PacketFormat.TagSize];
    private PacketAuthenticator _auth = null!;
    private byte[] _ping = null!;
    private byte[][] _pings = null!;
    private byte[] _ackToJoin = null!;
    private MembershipProtocol _protocol = null!;

    [GlobalSetup]
    public void Setup()
    {
        _auth = new PacketAuthenticator([Key]);
        _ping = Build(1, (ref PacketWriter w) => w.TryWritePing(42));

        // The receiving protocol is deterministic (seeded), so the nonce of its join ping to node-b is known here.
        using var probe = NewProtocol();
        probe.Tick(Frequency);
        var nonce = JoinNonce(probe);
        _ackToJoin = Build(1, (ref PacketWriter w) => w.TryWriteAck(nonce));
        _pings = Enumerable.Range(0, Batch).Select(i => Build((ulong)i + 2, (ref PacketWriter w) => w.TryWritePing((ulong)i))).ToArray();
    }

    [IterationSetup(Target = nameof(ProtocolReceivePingSendAck))]
    public void FreshProtocol()
    {
        _protocol?.Dispose();
        _protocol = NewProtocol();
        _protocol.Tick(Frequency);
        _protocol.Outbox.Clear();
        _protocol.Receive(_ackToJoin, Frequency);
        _protocol.Outbox.Clear();
        _protocol.Changes.Clear();
        if (_protocol.StateOf("node-b") != MemberState.Alive)
        {
            throw new InvalidOperationException("setup: node-b is not alive");
        }
    }

    [Benchmark(Baseline = true)]
    public byte HmacOfPingPacket()
    {
        _auth.Sign(_ping.AsSpan(0, _ping.Length - PacketFormat.TagSize), Receiver, _tag);
        return _tag[0];
    }

    [Benchmark]
    public int WritePing()
    {
        PacketWriter.TryBegin(_buffer, _auth.SigningHint, 1, 7, 0, Sender, out var writer);
        writer.TryWritePing(42);
        writer.TryFinish(_auth, Receiver, out var written);
        return written;
    }

    [Benchmark]
    public int OpenAndVerifyPing()
    {
        PacketReader.TryOpen(_ping, out var reader);
        var count = _auth.Verify(reader.KeyHint, reader.Signed, Receiver, reader.Tag) ? 1 : 0;
        while (reader.TryReadMessage(out _))
        {
            count++;
        }
        return count;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int ProtocolReceivePingSendAck()
    {
        var sent = 0;
        for (var i = 0; i < _pings.Length; i++)
        {
            _protocol.Receive(_pings[i], Frequency + i);
            sent += _protocol.Outbox.Count;
            _protocol.Outbox.Clear();
        }
        if (sent != Batch)
        {
            throw new InvalidOperationException($"{sent} acks for {Batch} pings");
        }
        return sent;
    }

    private static MembershipProtocol NewProtocol()
    {
        var protocol = new MembershipProtocol("node-a", 1, new MembershipOptions(), [Key], Frequency, new Random(1));
        protocol.SetPeers([new Peer("node-b", new IPEndPoint(IPAddress.Parse("198.51.100.2"), 7946)), new Peer("node-c", new IPEndPoint(IPAddress.Parse("198.51.100.3"), 7946))], Frequency);
        return protocol;
    }

    private static ulong JoinNonce(MembershipProtocol protocol)
    {
        for (var i = 0; i < protocol.Outbox.Count; i++)
        {
            if (protocol.Outbox.DestinationNameOf(i) == "node-b" && PacketReader.TryOpen(protocol.Outbox.DatagramOf(i), out var reader) == PacketError.Ok)
            {
                while (reader.TryReadMessage(out var m))
                {
                    if (m.Type == MessageType.Ping)
                    {
                        return m.Nonce;
                    }
                }
            }
        }
        throw new InvalidOperationException("no join ping to node-b");
    }

    private delegate bool WriteMessages(ref PacketWriter writer);

    private byte[] Build(ulong sequence, WriteMessages write)
    {
        var buffer = new byte[1400];
        PacketWriter.TryBegin(buffer, _auth.SigningHint, 100, sequence, 0, Sender, out var writer);
        write(ref writer);
        writer.TryFinish(_auth, Receiver, out var written);
        return buffer[..written];
    }
}
