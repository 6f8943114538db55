using System.Globalization;
using BareLb.Benchmarks;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/BareLb.Benchmarks -- services [count] [qps]   end-to-end: N Services to addresses
// dotnet run -c Release --project bench/BareLb.Benchmarks -- allocator          IPv6 /48 vs IPv4 /24 vs IPv6 /120
return args.FirstOrDefault() switch
{
    "services" => await ServiceChurnBenchmark.RunAsync(
        args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000,
        args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 0),
    "allocator" => Run(),
    _ => Usage(),
};

static int Run()
{
    BenchmarkRunner.Run<AllocatorBenchmarks>();
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: BareLb.Benchmarks services [count] [qps] | allocator");
    return 2;
}
