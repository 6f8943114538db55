using System.Net;
using System.Text;
using BareLb.Membership.Wire;

namespace BareLb.Membership.Protocol;

/// <summary>Everything one node tracks about one peer.</summary>
internal sealed class Member(string name, IPEndPoint endPoint)
{
    public string Name { get; } = name;

    public byte[] NameUtf8 { get; } = Encoding.UTF8.GetBytes(name);

    public IPEndPoint EndPoint { get; set; } = endPoint;

    public MemberState State { get; set; } = MemberState.Unknown;

    /// <summary>With <see cref="Incarnation"/>, the version of what we know: (boot, incarnation) compared in that order.</summary>
    public ulong Boot { get; set; }

    public uint Incarnation { get; set; }

    public ReplayWindow Replay;

    /// <summary>Last authenticated packet from the member; 0 when never. Probe targets are picked oldest first.</summary>
    public long LastHeard { get; set; }

    public Suspicion? Suspicion { get; set; }

    /// <summary>Our probe of this member in flight, if any (at most one).</summary>
    public Probe? Probe { get; set; }

    /// <summary>Another member suspects this one: probe it now rather than at its turn.</summary>
    public bool VerifyPending { get; set; }

    /// <summary>Pinged at least once since it was added (the join ping).</summary>
    public bool Pinged { get; set; }

    /// <summary>Earliest time of the next ping while it is not alive.</summary>
    public long NextReconnectAt { get; set; }

    public bool IsAlive => State is MemberState.Alive or MemberState.Suspect;

    /// <summary>Orders two versions of a member: boot first, then incarnation.</summary>
    public int CompareVersion(ulong boot, uint incarnation) =>
        boot != Boot ? boot.CompareTo(Boot) : incarnation.CompareTo(Incarnation);

    public override string ToString() => $"{Name} {State} {Boot}/{Incarnation}";
}

/// <summary>A suspicion of one member (Lifeguard): the timeout shrinks as distinct members confirm it.</summary>
internal sealed class Suspicion(long start, int expectedConfirmations)
{
    private readonly List<string> _accusers = [];

    public long Start { get; set; } = start;

    /// <summary>Lifeguard's K: confirmations that bring the timeout to its minimum.</summary>
    public int Expected { get; } = expectedConfirmations;

    public long Deadline { get; set; }

    public int Accusers => _accusers.Count;

    public IReadOnlyList<string> AccuserNames => _accusers;

    public bool HasAccuser(string name) => _accusers.Contains(name, StringComparer.Ordinal);

    /// <summary>Adds a distinct accuser; false when it was known already or enough are known.</summary>
    public bool AddAccuser(string name)
    {
        if (HasAccuser(name) || _accusers.Count > Expected)
        {
            return false;
        }
        _accusers.Add(name);
        return true;
    }

    /// <summary>The first accuser, named in rumors this node repeats.</summary>
    public string? FirstAccuser => _accusers.Count > 0 ? _accusers[0] : null;
}

/// <summary>One probe this node runs: direct ping, then (after the direct timeout) helpers and a second ping.</summary>
internal sealed class Probe(Member target, ulong nonce)
{
    public Member Target { get; } = target;

    public ulong Nonce { get; } = nonce;

    public long IndirectAt { get; set; }

    public long SecondRepingAt { get; set; }

    public long FailAt { get; set; }

    public bool IndirectSent { get; set; }

    public bool SecondRepingSent { get; set; }

    /// <summary>A ping to a member that is not alive: no helpers, and no suspicion when it fails.</summary>
    public bool Reconnect { get; init; }

    public List<Member> Helpers { get; } = [];

    public int Nacks { get; set; }
}

/// <summary>A probe this node runs for another member that asked (PingReq).</summary>
internal sealed class Relay(Member origin, ulong originNonce, Member target, ulong nonce)
{
    public Member Origin { get; } = origin;

    public ulong OriginNonce { get; } = originNonce;

    public Member Target { get; } = target;

    public ulong Nonce { get; } = nonce;

    public long RepingAt { get; set; }

    public bool Repinged { get; set; }

    public long NackAt { get; set; }
}
