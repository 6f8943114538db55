using System.Net;
using System.Net.Sockets;
using BareLb.Bgp.Wire;

namespace BareLb.Bgp;

/// <summary>The attributes of one of our routes, interned so that routes sharing them share one instance and one UPDATE.</summary>
internal sealed class RouteAttributes : IEquatable<RouteAttributes>
{
    private readonly int _hash;

    public RouteAttributes(IPAddress? nextHop, IReadOnlyList<BgpCommunity> communities, IReadOnlyList<BgpLargeCommunity> largeCommunities, uint? localPreference)
    {
        NextHop = nextHop;
        // Most routes carry none or one: skip the sort and de-duplication then (SetRoutes builds one of these per route).
        Communities = communities.Count switch
        {
            0 => [],
            1 => [communities[0]],
            _ => communities.Distinct().Order().ToArray(),
        };
        LargeCommunities = largeCommunities.Count switch
        {
            0 => [],
            1 => [largeCommunities[0]],
            _ => largeCommunities.Distinct().Order().ToArray(),
        };
        LocalPreference = localPreference;
        var h = new HashCode();
        h.Add(nextHop);
        h.Add(localPreference);
        foreach (var c in Communities)
        {
            h.Add(c);
        }
        foreach (var c in LargeCommunities)
        {
            h.Add(c);
        }
        _hash = h.ToHashCode();
    }

    public IPAddress? NextHop { get; }
    public BgpCommunity[] Communities { get; }
    public BgpLargeCommunity[] LargeCommunities { get; }
    public uint? LocalPreference { get; }

    public bool Equals(RouteAttributes? other) =>
        ReferenceEquals(this, other)
        || (other is not null && _hash == other._hash && Equals(NextHop, other.NextHop) && LocalPreference == other.LocalPreference
            && Communities.AsSpan().SequenceEqual(other.Communities) && LargeCommunities.AsSpan().SequenceEqual(other.LargeCommunities));

    public override bool Equals(object? obj) => Equals(obj as RouteAttributes);

    public override int GetHashCode() => _hash;
}

/// <summary>
/// What we want the peer to have (desired) against what we have sent it (advertised). <see cref="SetDesired"/> only
/// records the difference; <see cref="TryWriteNext"/> turns the difference into UPDATE messages one at a time, when
/// the connection has room, so that churn while a backlog drains costs nothing extra: a prefix changed twice before
/// it was sent is sent once. After a session comes up everything desired is sent, then End-of-RIB per family.
/// </summary>
internal sealed class AdjRibOut
{
    private readonly Dictionary<RouteAttributes, RouteAttributes> _intern = [];
    private readonly Dictionary<IPNetwork, RouteAttributes> _advertised = [];
    private readonly HashSet<IPNetwork> _dirty = [];
    private readonly Queue<Batch> _plan = new();
    private readonly List<AfiSafi> _endOfRibPending = [];
    private readonly Dictionary<RouteAttributes, byte[]> _encoded = [];
    private Dictionary<IPNetwork, RouteAttributes> _desired = [];
    private IReadOnlyList<AfiSafi> _families = [];
    private UpdateEncodingContext _context;
    private IPAddress? _nextHopV4;
    private byte[]? _nextHopV6;

    public bool Active { get; private set; }

    public int DesiredCount => _desired.Count;

    /// <summary>Routes skipped because no next hop of their family is known (no IPv4 address on an IPv6 session, say).</summary>
    public int Unsendable { get; private set; }

    public bool HasWork => Active && (_plan.Count > 0 || _dirty.Count > 0 || _endOfRibPending.Count > 0);

    public int PendingChanges => _dirty.Count + _plan.Sum(b => b.Prefixes.Count - b.Next);

    public int AdvertisedCount(AfiSafi family) => _advertised.Keys.Count(p => BgpUpdateWriter.FamilyOf(p) == family);

    public IReadOnlyDictionary<IPNetwork, RouteAttributes> Advertised => _advertised;

    /// <summary>Replaces the desired set. Throws <see cref="ArgumentException"/> on a duplicate prefix or oversized attributes.</summary>
    public void SetDesired(IReadOnlyCollection<BgpRoute> routes)
    {
        var next = new Dictionary<IPNetwork, RouteAttributes>(routes.Count);
        foreach (var route in routes)
        {
            var attrs = new RouteAttributes(route.NextHop, route.Communities, route.LargeCommunities, route.LocalPreference);
            if (attrs.Communities.Length > 200 || attrs.LargeCommunities.Length > 100)
            {
                throw new ArgumentException($"route {route.Prefix} has too many communities for one UPDATE");
            }
            if (!_intern.TryGetValue(attrs, out var interned))
            {
                _intern[attrs] = interned = attrs;
            }
            if (!next.TryAdd(route.Prefix, interned))
            {
                throw new ArgumentException($"prefix {route.Prefix} appears twice");
            }
        }
        if (Active)
        {
            foreach (var (prefix, attrs) in next)
            {
                if (!_desired.TryGetValue(prefix, out var old) || !ReferenceEquals(old, attrs))
                {
                    _dirty.Add(prefix);
                }
            }
            foreach (var prefix in _desired.Keys)
            {
                if (!next.ContainsKey(prefix))
                {
                    _dirty.Add(prefix);
                }
            }
        }
        _desired = next;
        // Attribute sets no route uses any more must not pile up over months of churn.
        if (_intern.Count > 2 * (next.Count + 16))
        {
            var used = next.Values.ToHashSet();
            foreach (var key in _intern.Keys.Where(k => !used.Contains(k)).ToList())
            {
                _intern.Remove(key);
            }
        }
    }

    /// <summary>A session came up: the peer has nothing of ours, so everything desired is pending, then End-of-RIB.</summary>
    public void Begin(in UpdateEncodingContext context, IReadOnlyList<AfiSafi> families, IPAddress? nextHopV4, IPAddress? nextHopV6, IPAddress? nextHopV6LinkLocal)
    {
        Active = true;
        _context = context;
        _families = families;
        _nextHopV4 = nextHopV4;
        _nextHopV6 = nextHopV6 is null ? null : BgpUpdateWriter.EncodeIPv6NextHop(nextHopV6, nextHopV6LinkLocal);
        _advertised.Clear();
        _plan.Clear();
        _encoded.Clear();
        _dirty.Clear();
        _dirty.UnionWith(_desired.Keys);
        _endOfRibPending.Clear();
        _endOfRibPending.AddRange(families);
        Unsendable = 0;
    }

    public void End()
    {
        Active = false;
        _advertised.Clear();
        _plan.Clear();
        _dirty.Clear();
        _encoded.Clear();
        _endOfRibPending.Clear();
    }

    /// <summary>ROUTE-REFRESH (RFC 2918): send everything of the family again.</summary>
    public void Refresh(AfiSafi family)
    {
        if (!Active || !_families.Contains(family))
        {
            return;
        }
        foreach (var prefix in _advertised.Keys.Where(p => BgpUpdateWriter.FamilyOf(p) == family).ToList())
        {
            _advertised.Remove(prefix);
            _dirty.Add(prefix);
        }
    }

    /// <summary>Writes the next UPDATE (at most 4096 octets) into <paramref name="buffer"/>; false when nothing is pending.</summary>
    public bool TryWriteNext(Span<byte> buffer, out int written)
    {
        written = 0;
        if (!Active)
        {
            return false;
        }
        while (true)
        {
            if (_plan.Count == 0 && _dirty.Count > 0)
            {
                Plan();
            }
            if (_plan.Count == 0)
            {
                break;
            }
            var batch = _plan.Peek();
            if (batch.Next >= batch.Prefixes.Count)
            {
                _plan.Dequeue();
                continue;
            }
            int count;
            if (batch.Attributes is null)
            {
                count = BgpUpdateWriter.WriteWithdrawals(buffer, batch.Family, batch.Prefixes, batch.Next, out written);
                for (var i = batch.Next; i < batch.Next + count; i++)
                {
                    _advertised.Remove(batch.Prefixes[i]);
                }
            }
            else
            {
                var v6 = batch.Family == AfiSafi.IPv6Unicast;
                count = BgpUpdateWriter.WriteAnnouncements(buffer, batch.Family, batch.Encoded, v6 ? batch.MpNextHop : default, batch.Prefixes, batch.Next, out written);
                for (var i = batch.Next; i < batch.Next + count; i++)
                {
                    _advertised[batch.Prefixes[i]] = batch.Attributes;
                }
            }
            batch.Next += count;
            return true;
        }
        if (_endOfRibPending.Count > 0)
        {
            written = BgpUpdateWriter.WriteEndOfRib(buffer, _endOfRibPending[0]);
            _endOfRibPending.RemoveAt(0);
            return true;
        }
        return false;
    }

    private void Plan()
    {
        var withdraw4 = new List<IPNetwork>();
        var withdraw6 = new List<IPNetwork>();
        var groups = new Dictionary<(AfiSafi, RouteAttributes), List<IPNetwork>>();
        Unsendable = 0;
        foreach (var prefix in _dirty)
        {
            var family = BgpUpdateWriter.FamilyOf(prefix);
            if (!_families.Contains(family))
            {
                continue;
            }
            _desired.TryGetValue(prefix, out var want);
            _advertised.TryGetValue(prefix, out var have);
            if (want is null)
            {
                if (have is not null)
                {
                    (family == AfiSafi.IPv4Unicast ? withdraw4 : withdraw6).Add(prefix);
                }
            }
            else if (!ReferenceEquals(want, have))
            {
                if (!CanSend(family, want))
                {
                    Unsendable++;
                    if (have is not null)
                    {
                        (family == AfiSafi.IPv4Unicast ? withdraw4 : withdraw6).Add(prefix);
                    }
                    continue;
                }
                if (!groups.TryGetValue((family, want), out var list))
                {
                    groups[(family, want)] = list = [];
                }
                list.Add(prefix);
            }
        }
        _dirty.Clear();
        if (withdraw4.Count > 0)
        {
            _plan.Enqueue(new Batch(AfiSafi.IPv4Unicast, null, [], [], withdraw4));
        }
        if (withdraw6.Count > 0)
        {
            _plan.Enqueue(new Batch(AfiSafi.IPv6Unicast, null, [], [], withdraw6));
        }
        foreach (var ((family, attrs), prefixes) in groups)
        {
            _plan.Enqueue(new Batch(family, attrs, Encode(family, attrs), MpNextHop(family, attrs), prefixes));
        }
    }

    private bool CanSend(AfiSafi family, RouteAttributes attrs) =>
        family == AfiSafi.IPv4Unicast
            ? (attrs.NextHop?.AddressFamily == AddressFamily.InterNetwork || (attrs.NextHop is null && _nextHopV4 is not null))
            : (attrs.NextHop?.AddressFamily == AddressFamily.InterNetworkV6 || (attrs.NextHop is null && _nextHopV6 is not null));

    private byte[] Encode(AfiSafi family, RouteAttributes attrs)
    {
        if (family == AfiSafi.IPv6Unicast)
        {
            // IPv6 attributes carry no NEXT_HOP; cache them apart from the IPv4 encoding of the same set.
            return BgpUpdateWriter.EncodeAttributes(_context, null, attrs.LocalPreference ?? 100, attrs.Communities, attrs.LargeCommunities);
        }
        if (!_encoded.TryGetValue(attrs, out var bytes))
        {
            _encoded[attrs] = bytes = BgpUpdateWriter.EncodeAttributes(_context, attrs.NextHop ?? _nextHopV4, attrs.LocalPreference ?? 100, attrs.Communities, attrs.LargeCommunities);
        }
        return bytes;
    }

    private byte[] MpNextHop(AfiSafi family, RouteAttributes attrs) =>
        family != AfiSafi.IPv6Unicast ? []
        : attrs.NextHop is { } own ? BgpUpdateWriter.EncodeIPv6NextHop(own, null)
        : _nextHopV6!;

    private sealed class Batch(AfiSafi family, RouteAttributes? attributes, byte[] encoded, byte[] mpNextHop, List<IPNetwork> prefixes)
    {
        public AfiSafi Family { get; } = family;
        public RouteAttributes? Attributes { get; } = attributes;
        public byte[] Encoded { get; } = encoded;
        public byte[] MpNextHop { get; } = mpNextHop;
        public List<IPNetwork> Prefixes { get; } = prefixes;
        public int Next { get; set; }
    }
}
