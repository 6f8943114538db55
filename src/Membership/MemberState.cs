namespace BareLb.Membership;

/// <summary>What this node believes about a member. The values are also the rumor states on the wire.</summary>
public enum MemberState : byte
{
    /// <summary>A configured peer never heard from (a node that runs no speaker stays here).</summary>
    Unknown = 0,

    Alive = 1,

    /// <summary>Failed a probe; still counted alive until the suspicion times out or the member refutes it.</summary>
    Suspect = 2,

    Dead = 3,

    /// <summary>Said goodbye (graceful shutdown).</summary>
    Left = 4,
}

/// <summary>A member as this node sees it.</summary>
/// <param name="Incarnation">The member's own counter, raised each time it refutes a suspicion about itself.</param>
/// <param name="Boot">Identifies the member's process start; a restarted member has a larger one.</param>
public sealed record MemberSnapshot(string Name, MemberState State, ulong Boot, uint Incarnation);

/// <summary>A member moved from one state to another in this node's view.</summary>
public readonly record struct MembershipChange(string Member, MemberState Previous, MemberState Current, uint Incarnation)
{
    /// <summary>The member entered or left the alive set (Alive and Suspect count as alive).</summary>
    public bool AliveChanged => IsAlive(Previous) != IsAlive(Current);

    public static bool IsAlive(MemberState state) => state is MemberState.Alive or MemberState.Suspect;
}

/// <summary>A speaker to watch: the node's name and its membership endpoint (InternalIP and the membership port).</summary>
public sealed record Peer(string Name, System.Net.IPEndPoint EndPoint);
