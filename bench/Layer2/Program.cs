using BareLb.Layer2.Benchmarks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// dotnet run -c Release --project bench/Layer2 -- responder    decode→decide→encode, ours against PacketDotNet (in-process)
// bash bench/Layer2/run.sh                                      ARP replies/s on real sockets, ours against the kernel
if (args.FirstOrDefault() != "responder")
{
    Console.Error.WriteLine("usage: BareLb.Layer2.Benchmarks responder   (the socket benchmark is bench/Layer2/run.sh)");
    return 2;
}
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkRunner.Run<ResponderBenchmarks>(config);
return 0;
