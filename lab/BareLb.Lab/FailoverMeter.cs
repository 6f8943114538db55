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
        var (outage, by) = await WatchUntilServedByAnotherAsync(lab, address, port, owner, died, limit, ct).ConfigureAwait(false);
        return by is not null
            ? new FailoverResult(address, owner, by, outage)
            : throw new TimeoutException($"{address}:{port} was not answered by another node within {limit.TotalSeconds:0.#} s of {owner}'s death");
    }

    /// <summary>
    /// Probes <paramref name="address"/> from the client until a node other than <paramref name="owner"/> answers, and
    /// returns how long after <paramref name="died"/> (a <see cref="Stopwatch"/> timestamp) that was, and who answered
    /// (null: nobody within <paramref name="limit"/>). The probes run on a thread of their own with blocking calls: on
    /// the thread pool the wait for pool threads and timer callbacks was counted as outage, up to 900 ms on two busy
    /// cores while a capture showed the new owner already announced.
    /// </summary>
    public static Task<(TimeSpan Outage, string? By)> WatchUntilServedByAnotherAsync(
        LabEnvironment lab, IPAddress address, int port, string owner, long died, TimeSpan limit, CancellationToken ct = default)
    {
        var done = new TaskCompletionSource<(TimeSpan, string?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                while (Stopwatch.GetElapsedTime(died) < limit && !ct.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    if (lab.Get(address, port, ProbeTimeout) is { } answer && answer != owner)
                    {
                        done.SetResult((Stopwatch.GetElapsedTime(died), answer));
                        return;
                    }
                    var wait = ProbeInterval - Stopwatch.GetElapsedTime(started);
                    if (wait > TimeSpan.Zero)
                    {
                        Thread.Sleep(wait);
                    }
                }
                if (ct.IsCancellationRequested)
                {
                    done.SetCanceled(ct);
                }
                else
                {
                    done.SetResult((limit, null));
                }
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"failover probe {address}",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>p-th percentile (0..100) by the nearest-rank method.</summary>
    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> values, double p)
    {
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
