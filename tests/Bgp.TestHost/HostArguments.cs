using System.Globalization;
using System.Net;
using BareLb.Bgp;
using Microsoft.Extensions.Logging;

namespace BareLb.Bgp.TestHost;

internal static class HostArguments
{
    public static BgpSessionOptions Parse(string[] args, out List<BgpRoute> routes)
    {
        var values = new Dictionary<string, string>();
        var flags = new HashSet<string>();
        routes = [];
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i].TrimStart('-');
            if (name is "multihop" or "graceful-restart" or "restarted" or "passive" or "wait-start")
            {
                flags.Add(name);
            }
            else if (name == "route")
            {
                routes.Add(ParseRoute(args[++i]));
            }
            else
            {
                values[name] = args[++i];
            }
        }
        TimeSpan? Seconds(string key) => values.TryGetValue(key, out var v) ? TimeSpan.FromSeconds(double.Parse(v, CultureInfo.InvariantCulture)) : null;
        IPAddress? Address(string key) => values.TryGetValue(key, out var v) ? IPAddress.Parse(v) : null;
        var options = new BgpSessionOptions
        {
            LocalAsn = uint.Parse(values["local-asn"], CultureInfo.InvariantCulture),
            PeerAsn = uint.Parse(values["peer-asn"], CultureInfo.InvariantCulture),
            PeerAddress = IPAddress.Parse(values["peer"]),
            PeerPort = values.TryGetValue("peer-port", out var port) ? int.Parse(port, CultureInfo.InvariantCulture) : 179,
            SourceAddress = Address("source"),
            RouterId = Address("router-id"),
            HoldTime = Seconds("hold") ?? TimeSpan.FromSeconds(90),
            KeepaliveTime = Seconds("keepalive"),
            ConnectRetryTime = Seconds("connect-retry") ?? TimeSpan.FromSeconds(30),
            Password = values.GetValueOrDefault("password"),
            EbgpMultiHop = flags.Contains("multihop"),
            GracefulRestart = flags.Contains("graceful-restart"),
            RestartTime = Seconds("restart-time") ?? TimeSpan.FromSeconds(120),
            Restarted = flags.Contains("restarted"),
            NextHopIPv4 = Address("next-hop-v4"),
            NextHopIPv6 = Address("next-hop-v6"),
            NextHopIPv6LinkLocal = Address("next-hop-v6-ll"),
            Passive = flags.Contains("passive"),
        };
        options.Validate();
        return options;
    }

    public static BgpRoute ParseRoute(string spec)
    {
        var parts = spec.Split(';');
        var route = new BgpRoute(IPNetwork.Parse(parts[0]));
        foreach (var part in parts.Skip(1))
        {
            var (key, value) = (part[..part.IndexOf('=', StringComparison.Ordinal)], part[(part.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            route = key switch
            {
                "nh" => route with { NextHop = IPAddress.Parse(value) },
                "c" => route with { Communities = value.Split(',').Select(BgpCommunity.Parse).ToArray() },
                "lc" => route with { LargeCommunities = value.Split(',').Select(BgpLargeCommunity.Parse).ToArray() },
                "lp" => route with { LocalPreference = uint.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new FormatException($"unknown route field {key}"),
            };
        }
        return route;
    }

    /// <summary>N consecutive prefixes of <paramref name="first"/>'s length, counted up from it (IPv6 /64 steps by default).</summary>
    public static BgpRoute[] Generate(IPNetwork first, int count)
    {
        var bytes = first.BaseAddress.GetAddressBytes();
        var start = new System.Numerics.BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var step = System.Numerics.BigInteger.One << (bytes.Length * 8 - first.PrefixLength);
        var routes = new BgpRoute[count];
        for (var i = 0; i < count; i++)
        {
            var value = (start + step * i).ToByteArray(isUnsigned: true, isBigEndian: true);
            var address = new byte[bytes.Length];
            value.CopyTo(address, address.Length - value.Length);
            routes[i] = new BgpRoute(new IPNetwork(new IPAddress(address), first.PrefixLength));
        }
        return routes;
    }
}

/// <summary>Serialises output lines so that the test reading them never sees two interleaved.</summary>
internal sealed class LineWriter
{
    private readonly object _gate = new();

    public void Line(string text)
    {
        lock (_gate)
        {
            Console.Out.WriteLine(text);
            Console.Out.Flush();
        }
    }
}

internal sealed class StdoutLogger<T>(LineWriter output) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            output.Line($"LOG {logLevel} {formatter(state, exception)}");
        }
    }
}
