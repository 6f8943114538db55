using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using BareLb.NetTestSupport;

namespace BareLb.Lab;

/// <summary>
/// <c>ip -ts monitor neigh</c> in a namespace: every change of its neighbour table, stamped by the monitor as it
/// arrives. Measuring when the client's entry moved this way costs the machine nothing while the failover runs,
/// where polling <c>ip neigh</c> every few milliseconds spawned hundreds of processes on two cores.
/// </summary>
public sealed partial class NeighbourMonitor(BackgroundProcess process) : IAsyncDisposable
{
    /// <summary>
    /// When the entry for <paramref name="address"/> was first given a link-layer address other than
    /// <paramref name="mac"/> at or after <paramref name="since"/> (local time, as the monitor prints); null if not (yet).
    /// </summary>
    public DateTime? MovedAway(IPAddress address, string mac, DateTime since)
    {
        foreach (var line in process.Output.Split('\n'))
        {
            var match = Change().Match(line);
            if (match.Success && IPAddress.TryParse(match.Groups["address"].Value, out var changed) && changed.Equals(address) &&
                !string.Equals(match.Groups["mac"].Value, mac, StringComparison.OrdinalIgnoreCase) &&
                DateTime.TryParse(match.Groups["at"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var at) && at >= since)
            {
                return at;
            }
        }
        return null;
    }

    public async ValueTask DisposeAsync() => await process.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);

    [GeneratedRegex(@"^\[(?<at>[^\]]+)\]\s+(?<address>\S+) (?:dev \S+ )?lladdr (?<mac>\S+)")]
    private static partial Regex Change();
}
