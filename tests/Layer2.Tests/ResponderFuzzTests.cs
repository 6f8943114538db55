using System.Diagnostics;

namespace BareLb.Layer2.Tests;

/// <summary>
/// Random and mutated frames through decode and respond: nothing throws, every outcome is a defined value, and an
/// answer is always a complete frame. Findings become cases in the malformed tables.
/// </summary>
public sealed class ResponderFuzzTests
{
    private const int Frames = 200_000;

    [Fact]
    public void Respond_200000RandomAndMutatedFrames_NeverThrowsAndOutcomesAreDefined()
    {
        var seed = Environment.GetEnvironmentVariable("BARELB_LAYER2_FUZZ_SEED") is { Length: > 0 } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0x12A2;
        var random = new Random(seed);
        var responder = new NeighborResponder(TestFrames.NodeMac) { Owned = OwnedSet.Create([TestFrames.OwnedV4, TestFrames.OwnedV6]) };
        var seeds = new[]
        {
            TestFrames.ArpRequest(TestFrames.OwnedV4),
            TestFrames.NeighborSolicitation(TestFrames.OwnedV6),
            TestFrames.NeighborSolicitation(TestFrames.OwnedV6, withLinkLayer: false, unicast: true),
            TestFrames.NeighborSolicitation(TestFrames.OwnedV6, dad: true),
            NeighborSolicitationTests.WithOptions(TestFrames.NeighborSolicitation(TestFrames.OwnedV6), [1, 1, 2, 0, 0, 0, 0, 0xc1, 14, 1, 0, 0, 0, 0, 0, 0]),
        };
        var reply = new byte[NeighborResponder.MaxReplyLength];
        var counts = new int[FrameOutcomes.Count];
        var clock = Stopwatch.StartNew();

        for (var i = 0; i < Frames; i++)
        {
            var frame = (i % 4) switch
            {
                0 => RandomBytes(random, random.Next(0, 200)),
                1 => Mutate(random, seeds[random.Next(seeds.Length)], fixChecksum: false),
                _ => Mutate(random, seeds[random.Next(seeds.Length)], fixChecksum: true),
            };
            var outcome = responder.Respond(frame, reply, out var written);

            Assert.True(Enum.IsDefined(outcome), $"frame {i}: undefined outcome {outcome}");
            if (outcome == FrameOutcome.Answered)
            {
                Assert.True(written is 42 or 86, $"frame {i}: answer of {written} octets for {Convert.ToHexString(frame)}");
            }
            else
            {
                Assert.Equal(0, written);
            }
            counts[(int)outcome]++;
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"fuzzing took {clock.Elapsed}");
        // The mutations must reach deep rules, not only stop at the first byte.
        foreach (var deep in (FrameOutcome[])[FrameOutcome.Answered, FrameOutcome.NdpChecksum, FrameOutcome.NdpOptionLengthZero, FrameOutcome.NdpHopLimit, FrameOutcome.ArpTruncated, FrameOutcome.NotOwned])
        {
            Assert.True(counts[(int)deep] > 0, $"no frame reached {deep}");
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] seed, bool fixChecksum)
    {
        var frame = seed.ToArray();
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            switch (random.Next(4))
            {
                case 0 when frame.Length > 0:
                    frame[random.Next(frame.Length)] = (byte)random.Next(256);
                    break;
                case 1:
                    frame = frame[..random.Next(frame.Length + 1)];
                    break;
                case 2:
                    frame = frame.Concat(RandomBytes(random, random.Next(1, 24))).ToArray();
                    break;
                default:
                    // Option area: length fields near 0 are where decoders loop forever.
                    if (frame.Length > 79)
                    {
                        frame[79] = (byte)random.Next(0, 3);
                    }
                    break;
            }
        }
        if (fixChecksum && frame.Length >= 58 && frame[12] == 0x86 && frame[13] == 0xDD)
        {
            TestFrames.FixIcmpChecksum(frame);
        }
        return frame;
    }
}
