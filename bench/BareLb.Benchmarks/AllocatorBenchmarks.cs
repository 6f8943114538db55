using System.Net;
using BareLb.Allocator;
using BenchmarkDotNet.Attributes;

namespace BareLb.Benchmarks;

/// <summary>
/// Allocation cost must not depend on pool size: the same 250 allocations from an IPv4 /24, an IPv6 /120 (same
/// size) and an IPv6 /48 (2^80 addresses), side by side in one run. The /24 is the baseline, so the Ratio column is
/// the answer.
/// </summary>
// In-process: BenchmarkDotNet 0.14 cannot generate a net10.0 project of its own.
[InProcess]
[MemoryDiagnoser]
public class AllocatorBenchmarks
{
    private const int Services = 250;

    [Params("198.51.100.0/24", "2001:db8::/120", "2001:db8::/48")]
    public string Pool { get; set; } = "";

    private PoolDefinition _pool = null!;
    private ServiceRequest[] _requests = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (!IpRange.TryParse(Pool, out var range, out var error))
        {
            throw new InvalidOperationException(error);
        }
        _pool = new PoolDefinition("bench", [range]);
        _requests = Enumerable.Range(0, Services).Select(i => new ServiceRequest
        {
            Key = new ServiceKey("bench", $"s{i}"),
            Families = [range.Family],
        }).ToArray();
    }

    [Benchmark]
    public int Allocate250()
    {
        var allocator = new PoolAllocator();
        allocator.SetPools([_pool]);
        var ok = 0;
        foreach (var request in _requests)
        {
            ok += allocator.Allocate(request).Succeeded ? 1 : 0;
        }
        if (ok != Services)
        {
            throw new InvalidOperationException($"only {ok} of {Services} allocated");
        }
        return ok;
    }
}
