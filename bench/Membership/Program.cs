using BareLb.Membership.Benchmarks;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Membership      CPU and allocations per membership datagram
// bash bench/Membership/run.sh                          all Membership figures (needs root for the namespaces)
BenchmarkRunner.Run<PacketPathBenchmarks>(args: args);
return 0;
