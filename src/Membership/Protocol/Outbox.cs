using System.Net;

namespace BareLb.Membership.Protocol;

/// <summary>
/// Datagrams the protocol wants sent, written into one reused buffer so that a steady state allocates nothing.
/// The caller sends them all and calls <see cref="Clear"/>.
/// </summary>
internal sealed class Outbox
{
    private readonly List<(IPEndPoint To, string ToName, int Offset, int Length)> _packets = [];
    private byte[] _arena = new byte[16 * 1024];
    private int _used;

    public int Count => _packets.Count;

    public IPEndPoint DestinationOf(int index) => _packets[index].To;

    /// <summary>The member a datagram is for (its tag is bound to that name).</summary>
    public string DestinationNameOf(int index) => _packets[index].ToName;

    public ReadOnlySpan<byte> DatagramOf(int index)
    {
        var (_, _, offset, length) = _packets[index];
        return _arena.AsSpan(offset, length);
    }

    /// <summary>Room for one datagram of up to <paramref name="size"/> bytes; <see cref="Commit"/> keeps what was written.</summary>
    public Span<byte> Reserve(int size)
    {
        if (_arena.Length - _used < size)
        {
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + size));
        }
        return _arena.AsSpan(_used, size);
    }

    public void Commit(IPEndPoint to, string toName, int length)
    {
        _packets.Add((to, toName, _used, length));
        _used += length;
    }

    public void Clear()
    {
        _packets.Clear();
        _used = 0;
    }
}
