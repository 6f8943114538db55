using Xunit.Abstractions;

namespace BareLb.Membership.Tests.Simulation;

internal static class Experiments
{
    /// <summary>Detection time (kill → every survivor has it Dead) per trial, in ms; NaN when not detected in 5 s.</summary>
    public static double[] DetectionTimes(int size, int trials, int firstSeed, MembershipOptions? options = null, double loss = 0)
    {
        var result = new double[trials];
        for (var t = 0; t < trials; t++)
        {
            var seed = firstSeed + t;
            var cluster = new SimulatedCluster(size, seed, options, loss);
            var random = new Random(seed * 7919);
            if (!cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)))
            {
                throw new InvalidOperationException($"seed {seed}: no convergence");
            }
            cluster.RunFor(TimeSpan.FromMilliseconds(1000 + random.Next(1000)));
            var victim = cluster.Nodes[random.Next(size)];
            var killedAt = cluster.Now;
            victim.Kill();
            var survivors = cluster.Nodes.Where(n => n != victim).ToArray();
            var detected = cluster.RunUntil(() => survivors.All(s => s.Protocol.StateOf(victim.Name) == MemberState.Dead), TimeSpan.FromSeconds(5));
            result[t] = detected ? SimulatedCluster.ToTimeSpan(cluster.Now - killedAt).TotalMilliseconds : double.NaN;
        }
        return result;
    }

    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static string Describe(IReadOnlyList<double> values) =>
        $"n={values.Count} min={values.Min():F0} p50={Percentile(values, 50):F0} p90={Percentile(values, 90):F0} p99={Percentile(values, 99):F0} max={values.Max():F0} ms";
}

public sealed class ExperimentTests(ITestOutputHelper output)
{
    private static MembershipOptions Tuned()
    {
        var o = new MembershipOptions();
        static double? Env(string n) => Environment.GetEnvironmentVariable(n) is { Length: > 0 } v ? double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : null;
        if (Env("T_MIN") is { } tmin) o.SuspicionTimeoutMin = TimeSpan.FromMilliseconds(tmin);
        if (Env("T_MAX") is { } tmax) o.SuspicionTimeoutMax = TimeSpan.FromMilliseconds(tmax);
        if (Env("T_PROBE") is { } tp) o.ProbeTimeout = TimeSpan.FromMilliseconds(tp);
        if (Env("T_DIRECT") is { } td) o.DirectProbeTimeout = TimeSpan.FromMilliseconds(td);
        if (Env("T_INTERVAL") is { } ti) o.ProbeInterval = TimeSpan.FromMilliseconds(ti);
        return o;
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(9)]
    public void Explore_Detection(int size)
    {
        var times = Experiments.DetectionTimes(size, 300, 1000, Tuned());
        output.WriteLine($"{size}: undetected={times.Count(double.IsNaN)} " + Experiments.Describe(times.Where(t => !double.IsNaN(t)).ToArray()));
    }

    [Theory]
    [InlineData(3, 100, 0.10)]
    [InlineData(5, 100, 0.10)]
    [InlineData(3, 30, 0.20)]
    [InlineData(5, 30, 0.20)]
    [InlineData(9, 30, 0.20)]
    public void Explore_FalseDeaths(int size, int seeds, double loss)
    {
        long deaths = 0, suspicions = 0, refutations = 0, sent = 0;
        for (var seed = 0; seed < seeds; seed++)
        {
            var cluster = new SimulatedCluster(size, seed, Tuned());
            Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)));
            cluster.Log.Clear();
            cluster.Loss = loss;
            var before = cluster.Nodes.Sum(n => n.Sent);
            cluster.RunFor(TimeSpan.FromSeconds(60));
            sent += cluster.Nodes.Sum(n => n.Sent) - before;
            var bad = cluster.Log.Where(o => !MembershipChange.IsAlive(o.Change.Current)).ToList();
            deaths += bad.Count;
            foreach (var b in bad)
            {
                output.WriteLine($"seed {seed}: {SimulatedCluster.ToTimeSpan(b.Time)} {b.Observer} sees {b.Change.Member} {b.Change.Current}");
            }
            suspicions += cluster.Nodes.Sum(n => n.Protocol.Counters.Suspicions);
            refutations += cluster.Nodes.Sum(n => n.Protocol.Counters.Refutations);
        }
        output.WriteLine($"{size} nodes, {seeds} seeds x 60 s at {loss:P0} loss: false deaths {deaths}, suspicions {suspicions}, refutations {refutations}, sent/node/s {sent / (double)(seeds * size * 60):F1}");
    }
}
