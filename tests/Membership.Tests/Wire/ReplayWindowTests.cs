using BareLb.Membership.Wire;

namespace BareLb.Membership.Tests.Wire;

public sealed class ReplayWindowTests
{
    // Each case: packets as (boot, sequence) in arrival order, and which of them must be accepted.
    public static TheoryData<string, (ulong Boot, ulong Seq)[], bool[]> Cases => new()
    {
        { "in order", [(1, 1), (1, 2), (1, 3)], [true, true, true] },
        { "duplicate", [(1, 5), (1, 5)], [true, false] },
        { "reordered within the window", [(1, 10), (1, 12), (1, 11)], [true, true, true] },
        { "reordered twice", [(1, 10), (1, 12), (1, 11), (1, 11)], [true, true, true, false] },
        { "gaps are fine", [(1, 1), (1, 1000), (1, 999)], [true, true, true] },
        { "older than the window", [(1, 1), (1, 100), (1, 36)], [true, true, false] },
        { "oldest still in the window", [(1, 1), (1, 100), (1, 37)], [true, true, true] },
        { "before the first packet of a boot", [(1, 100), (1, 99)], [true, false] },
        { "newer boot restarts the window", [(1, 100), (2, 1), (2, 2)], [true, true, true] },
        { "older boot is a replay", [(2, 1), (1, 500)], [true, false] },
        { "back to an older boot after a newer", [(1, 5), (2, 5), (1, 6)], [true, true, false] },
        { "large jump clears the history", [(1, 1), (1, 200), (1, 199), (1, 200)], [true, true, true, false] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryAccept_Sequence_AcceptsOnlyFreshPackets(string what, (ulong Boot, ulong Seq)[] packets, bool[] expected)
    {
        var window = new ReplayWindow();
        var actual = packets.Select(p => window.TryAccept(p.Boot, p.Seq)).ToArray();
        Assert.True(expected.SequenceEqual(actual), $"{what}: expected {string.Join(",", expected)} got {string.Join(",", actual)}");
    }

    [Fact]
    public void TryAccept_RandomOrderWithDuplicates_MatchesModel()
    {
        // Model: fresh when not seen, not before the first accepted, and less than the window behind the highest.
        var random = new Random(3);
        var window = new ReplayWindow();
        var accepted = new HashSet<ulong>();
        ulong first = 0, highest = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var seq = (ulong)(1000 + i / 2 + random.Next(80) - 40);
            var expected = accepted.Count == 0
                || (!accepted.Contains(seq) && seq >= first && (seq > highest || highest - seq < ReplayWindow.Size));

            Assert.True(expected == window.TryAccept(7, seq), $"step {i}: sequence {seq}, first {first}, highest {highest}");
            if (expected)
            {
                if (accepted.Count == 0)
                {
                    first = seq;
                }
                accepted.Add(seq);
                highest = Math.Max(highest, seq);
            }
        }
        Assert.True(accepted.Count > 5_000, $"only {accepted.Count} accepted: the generator is not exercising reordering");
    }
}
