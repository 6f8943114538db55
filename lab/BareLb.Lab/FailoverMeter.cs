using System.Diagnostics;
using System.Net;

namespace BareLb.Lab;

public sealed record FailoverResult(IPAddress Address, string From, string To, TimeSpan Outage);

/// <summary>
/// Kills the node that answers for an address and measures, from the client, how long until the address is answered
/// again by another node: new connections every <see cref="ProbeInterval"/>, each given <see cref="ProbeTimeout"/>.
/// </summary>
public static class FailoverMeter
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromMilliseconds(100);

    public static async Task<FailoverResult> KillOwnerAndMeasureAsync(LabEnvironment lab, IPAddress address, int port, TimeSpan limit, CancellationToken ct = default)
    {
        var owner = await lab.GetAsync(address, port, TimeSpan.FromSeconds(2), ct).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{address}:{port} does not answer before the failover");
        var node = lab.Nodes.Single(n => n.Name == owner);
        var died = await lab.KillNodeAsync(node, ct).ConfigureAwait(false);
        while (Stopwatch.GetElapsedTime(died) < limit)
        {
            var started = Stopwatch.GetTimestamp();
            var answer = await lab.GetAsync(address, port, ProbeTimeout, ct).ConfigureAwait(false);
            if (answer is not null && answer != owner)
            {
                return new FailoverResult(address, owner, answer, Stopwatch.GetElapsedTime(died));
            }
            var wait = ProbeInterval - Stopwatch.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, ct).ConfigureAwait(false);
            }
        }
        throw new TimeoutException($"{address}:{port} was not answered by another node within {limit.TotalSeconds:0.#} s of {owner}'s death");
    }

    /// <summary>p-th percentile (0..100) by the nearest-rank method.</summary>
    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> values, double p)
    {
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
