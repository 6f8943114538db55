using System.Globalization;
using System.Net;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace BareLb.Allocator.Tests;

// Dense blocks of held addresses across several /24 boundaries, so that held runs merge and split around .255/.0
// pairs; after every step the first free address and the usage must equal a brute-force walk of the region.
public sealed class HeldBlocksPropertyTests
{
    private const int Runs = 80;
    private const int RegionSize = 800;   // 10.0.0.200 - 10.0.3.231: three .255/.0 pairs inside
    private const int InnerFirst = 56;   // 10.0.1.0: a run of held addresses often ends exactly here
    private const int InnerLast = 567;
    private static readonly UInt128 Base = IpAddressMath.ToUInt128(IPAddress.Parse("10.0.0.200"));

    [Fact]
    public void RandomBlocks_AfterEveryStep_FirstFreeAndUsageMatchBruteForce()
    {
        var seed = Environment.GetEnvironmentVariable("BARELB_ALLOCATOR_SEED") is { Length: > 0 } text
            ? ulong.Parse(text, CultureInfo.InvariantCulture)
            : 0xB10C5UL;
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(Runs)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed), FSharpOption<int>.None)));
        Check.One(config, Prop.ForAll(Arb.From(OperationsGen), (Step[] steps) => new Region().Run(steps)));
    }

    internal sealed record Step(char Kind, int Start, int Length, bool Careful)
    {
        public override string ToString() => $"{Kind}{Start}+{Length}{(Careful ? "c" : "")}";
    }

    // Block edges cluster near the boundaries at offsets 55/56, 311/312 and 567/568.
    private static readonly Gen<int> OffsetGen = Gen.Frequency(
        (1, Gen.Elements(54, 55, 56, 57, 310, 311, 312, 313, 566, 567, 568, 569)),
        (2, Gen.Choose(0, RegionSize - 1)));

    private static readonly Gen<Step> StepGen =
        from kind in Gen.Frequency((3, Gen.Constant('H')), (2, Gen.Constant('R')), (4, Gen.Constant('A')))
        from start in OffsetGen
        from length in Gen.Frequency((2, Gen.Choose(1, 4)), (2, Gen.Choose(5, 150)))
        from careful in Gen.Elements(true, false)
        select new Step(kind, start, length, careful);

    private static readonly Gen<Step[]> OperationsGen = Gen.Choose(5, 40).SelectMany(n => StepGen.ArrayOf(n));

    private sealed class Region
    {
        private readonly PoolAllocator _allocator = new();
        private readonly Dictionary<int, ServiceKey> _held = [];
        private int _probes;

        public Region()
        {
            var range = new IpRange(IpFamily.IPv4, Base, Base + RegionSize - 1);
            _allocator.SetPools(
            [
                new PoolDefinition("careful", [range], AvoidBuggyIPs: true),
                new PoolDefinition("plain", [range]),
                new PoolDefinition("inner", [new IpRange(IpFamily.IPv4, Base + InnerFirst, Base + InnerLast)], AutoAssign: false, AvoidBuggyIPs: true),
            ]);
        }

        public bool Run(Step[] steps)
        {
            foreach (var step in steps)
            {
                switch (step.Kind)
                {
                    case 'H':
                        foreach (var offset in Block(step).Where(o => !_held.ContainsKey(o)))
                        {
                            var key = new ServiceKey("h", offset.ToString(CultureInfo.InvariantCulture));
                            Assert.True(_allocator.Restore(new ServiceRequest { Key = key }, [Address(offset)]).Succeeded);
                            _held[offset] = key;
                        }

                        break;

                    case 'R':
                        foreach (var offset in Block(step).Where(_held.ContainsKey))
                        {
                            Assert.True(_allocator.Release(_held[offset]));
                            _held.Remove(offset);
                        }

                        break;

                    default:
                        Probe(step.Careful);
                        break;
                }

                CheckUsage("careful", 0, RegionSize - 1, avoidBuggy: true);
                CheckUsage("plain", 0, RegionSize - 1, avoidBuggy: false);
                CheckUsage("inner", InnerFirst, InnerLast, avoidBuggy: true);
            }

            return true;
        }

        private void Probe(bool careful)
        {
            var expected = Enumerable.Range(0, RegionSize)
                .Where(o => !_held.ContainsKey(o) && !(careful && IsBuggy(o)))
                .Select(o => (int?)o)
                .FirstOrDefault();
            var key = new ServiceKey("probe", (_probes++).ToString(CultureInfo.InvariantCulture));
            var result = _allocator.Allocate(new ServiceRequest { Key = key, RequestedPool = careful ? "careful" : "plain" });
            if (expected is not { } offset)
            {
                Assert.Equal(AllocationFailure.PoolExhausted, result.Failure);
                return;
            }

            Assert.True(result.Succeeded, result.Message);
            Assert.Equal(Address(offset), result.Assignment!.Addresses.Single());
            _held[offset] = key;
        }

        private void CheckUsage(string pool, int first, int last, bool avoidBuggy)
        {
            var usable = Enumerable.Range(first, last - first + 1).Where(o => !(avoidBuggy && IsBuggy(o))).ToArray();
            var expected = new PoolUsage(
                (UInt128)_held.Keys.Count(o => o >= first && o <= last),
                0,
                (UInt128)usable.Count(o => !_held.ContainsKey(o)),
                0);
            Assert.Equal(expected, _allocator.GetUsage(pool));
        }

        private static IEnumerable<int> Block(Step step) =>
            Enumerable.Range(step.Start, Math.Min(step.Length, RegionSize - step.Start));

        private static bool IsBuggy(int offset) => (byte)(Base + (UInt128)offset) is 0 or 255;

        private static IPAddress Address(int offset) => IpAddressMath.ToAddress(IpFamily.IPv4, Base + (UInt128)offset);
    }
}
