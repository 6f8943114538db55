using System.Net;
using BareLb.Bgp.Wire;
using BenchmarkDotNet.Attributes;

namespace BareLb.Bgp.Bench;

/// <summary>
/// What one session costs us per message and per table: validating a full UPDATE of 450 IPv6 prefixes (what the
/// session does with every UPDATE it receives) against decoding it into objects (what only tests do); and the RIB-out
/// work for 10,000 prefixes: the full send after establishment, and the diff that finds one withdrawal.
/// </summary>
// In-process: BenchmarkDotNet 0.14 cannot generate a net10.0 project of its own.
[InProcess]
[MemoryDiagnoser]
[WarmupCount(3)]
[IterationCount(10)]
public class CodecBenchmarks
{
    private static readonly UpdateParseContext Context = new(FourOctetAs: true, External: true, PeerAsOnPath: 64512);
    private byte[] _update = [];
    private BgpRoute[] _routes = [];
    private BgpRoute[] _routesButOne = [];
    private readonly byte[] _buffer = new byte[BgpHeader.MaxMessageLength];

    [GlobalSetup]
    public void Setup()
    {
        _routes = Enumerable.Range(0, 10_000).Select(i => new BgpRoute(new IPNetwork(IPAddress.Parse($"2001:db8:a:{i:x}::"), 64))).ToArray();
        _routesButOne = _routes[..^1];
        var attributes = BgpUpdateWriter.EncodeAttributes(new UpdateEncodingContext(true, true, 64512), null, 100, [BgpCommunity.NoExport], []);
        var nextHop = BgpUpdateWriter.EncodeIPv6NextHop(IPAddress.Parse("2001:db8::10"), null);
        var n = BgpUpdateWriter.WriteAnnouncements(_buffer, AfiSafi.IPv6Unicast, attributes, nextHop, _routes.Select(r => r.Prefix).ToArray(), 0, out var written);
        _update = _buffer[..written];
        if (n < 400)
        {
            throw new InvalidOperationException($"only {n} prefixes in the UPDATE");
        }
    }

    [Benchmark(Baseline = true)]
    public int ValidateUpdate() =>
        BgpUpdateParser.TryParse(_update, Context, out var u, out _) ? u.MpReachCount : throw new InvalidOperationException();

    [Benchmark]
    public int DecodeUpdateToObjects() =>
        BgpUpdate.TryDecode(_update, Context, out var u, out _) ? u!.MpReachNlri.Count : throw new InvalidOperationException();

    [Benchmark]
    public int RibOut10kFullSend()
    {
        var rib = new AdjRibOut();
        rib.SetDesired(_routes);
        rib.Begin(new UpdateEncodingContext(true, true, 64512), [AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast], null, IPAddress.Parse("2001:db8::10"), null);
        var messages = 0;
        while (rib.TryWriteNext(_buffer, out _))
        {
            messages++;
        }
        return messages;
    }

    private AdjRibOut _established = null!;
    private bool _toggle;

    [GlobalSetup(Target = nameof(RibOut10kDiffOneChange))]
    public void SetupEstablished()
    {
        Setup();
        _established = new AdjRibOut();
        _established.SetDesired(_routes);
        _established.Begin(new UpdateEncodingContext(true, true, 64512), [AfiSafi.IPv6Unicast], null, IPAddress.Parse("2001:db8::10"), null);
        while (_established.TryWriteNext(_buffer, out _))
        {
        }
    }

    /// <summary>SetRoutes of 10,000 routes where one differs from what the peer has (alternately withdrawn and re-announced), and its UPDATE.</summary>
    [Benchmark]
    public int RibOut10kDiffOneChange()
    {
        _toggle = !_toggle;
        _established.SetDesired(_toggle ? _routesButOne : _routes);
        var messages = 0;
        while (_established.TryWriteNext(_buffer, out _))
        {
            messages++;
        }
        return messages;
    }
}
