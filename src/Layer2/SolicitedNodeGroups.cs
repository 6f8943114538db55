namespace BareLb.Layer2;

/// <summary>
/// Reference counts of solicited-node multicast groups per interface. Several owned addresses share a group when
/// their last 24 bits are equal; the group is joined with the first and left with the last. Pure: the caller joins or
/// leaves when told to.
/// </summary>
public sealed class SolicitedNodeGroups
{
    private readonly Dictionary<(int Interface, UInt128 Group), int> _counts = [];

    public int Count => _counts.Count;

    /// <summary>Counts <paramref name="address"/> in; returns its group when this is the group's first address (join it).</summary>
    public UInt128? Add(int interfaceIndex, UInt128 address)
    {
        var key = (interfaceIndex, IpAddresses.SolicitedNode(address));
        _counts.TryGetValue(key, out var count);
        _counts[key] = count + 1;
        return count == 0 ? key.Item2 : null;
    }

    /// <summary>Counts <paramref name="address"/> out; returns its group when this was the group's last address (leave it).</summary>
    public UInt128? Remove(int interfaceIndex, UInt128 address)
    {
        var key = (interfaceIndex, IpAddresses.SolicitedNode(address));
        if (!_counts.TryGetValue(key, out var count))
        {
            throw new InvalidOperationException($"{IpAddresses.FromIPv6(address)} was not counted on interface {interfaceIndex}");
        }
        if (count == 1)
        {
            _counts.Remove(key);
            return key.Item2;
        }
        _counts[key] = count - 1;
        return null;
    }

    public bool IsJoined(int interfaceIndex, UInt128 group) => _counts.ContainsKey((interfaceIndex, group));
}
