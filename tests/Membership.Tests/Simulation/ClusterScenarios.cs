namespace BareLb.Membership.Tests.Simulation;

/// <summary>Measurements over many simulated runs, shared by the simulation tests and the figures in docs/benchmarks.md.</summary>
internal static class ClusterScenarios
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

