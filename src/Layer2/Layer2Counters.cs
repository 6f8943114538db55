namespace BareLb.Layer2;

/// <summary>
/// What the responders did, per socket kind and <see cref="FrameOutcome"/>, plus announcement and I/O counts.
/// Incremented lock-free on the receive threads; read at any time (each value is exact, a set of values is not a
/// snapshot of one instant).
/// </summary>
public sealed class Layer2Counters
{
    private readonly long[] _outcomes = new long[2 * FrameOutcomes.Count];
    private long _announcements;
    private long _sendFailures;
    private long _receiveFailures;
    private long _handlerFailures;

    public long Get(FrameKind kind, FrameOutcome outcome) => Interlocked.Read(ref _outcomes[Index(kind, outcome)]);

    public long Get(FrameOutcome outcome) => Get(FrameKind.Arp, outcome) + Get(FrameKind.Ndp, outcome);

    public long Answered => Get(FrameOutcome.Answered);

    public long NotOwned => Get(FrameOutcome.NotOwned);

    /// <summary>Frames rejected by any validity rule, both kinds.</summary>
    public long Malformed
    {
        get
        {
            long sum = 0;
            foreach (var outcome in Enum.GetValues<FrameOutcome>())
            {
                if (outcome.IsMalformed())
                {
                    sum += Get(outcome);
                }
            }
            return sum;
        }
    }

    /// <summary>Gratuitous ARPs and unsolicited NAs sent.</summary>
    public long AnnouncementsSent => Interlocked.Read(ref _announcements);

    /// <summary>Replies and announcements the kernel refused to send.</summary>
    public long SendFailures => Interlocked.Read(ref _sendFailures);

    public long ReceiveFailures => Interlocked.Read(ref _receiveFailures);

    /// <summary>Frames whose handling threw; zero unless there is a bug.</summary>
    public long HandlerFailures => Interlocked.Read(ref _handlerFailures);

    /// <summary>Every non-zero (kind, outcome) count, for export as labelled metrics.</summary>
    public IReadOnlyList<(FrameKind Kind, FrameOutcome Outcome, long Count)> Snapshot()
    {
        var result = new List<(FrameKind, FrameOutcome, long)>();
        foreach (var kind in (FrameKind[])[FrameKind.Arp, FrameKind.Ndp])
        {
            foreach (var outcome in Enum.GetValues<FrameOutcome>())
            {
                if (Get(kind, outcome) is var count and > 0)
                {
                    result.Add((kind, outcome, count));
                }
            }
        }
        return result;
    }

    internal void Count(FrameKind kind, FrameOutcome outcome) => Interlocked.Increment(ref _outcomes[Index(kind, outcome)]);

    internal void AnnouncementSent() => Interlocked.Increment(ref _announcements);

    internal void SendFailed() => Interlocked.Increment(ref _sendFailures);

    internal void ReceiveFailed() => Interlocked.Increment(ref _receiveFailures);

    internal long HandlerFailed() => Interlocked.Increment(ref _handlerFailures);

    private static int Index(FrameKind kind, FrameOutcome outcome) => (int)kind * FrameOutcomes.Count + (int)outcome;
}
