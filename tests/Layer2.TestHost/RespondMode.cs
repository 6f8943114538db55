using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;

namespace BareLb.Layer2.TestHost;

/// <summary>Runs a <see cref="Layer2Announcer"/> with the real Linux edges; the test drives it line by line on stdin.</summary>
internal static class RespondMode
{
    public static async Task<int> RunAsync(Arguments args)
    {
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        var options = new Layer2Options
        {
            ExcludedInterfaces = args.Find("exclude") is { } exclude ? exclude.Split(',', StringSplitOptions.RemoveEmptyEntries) : InterfacePolicy.DefaultExcluded,
        };
        await using var announcer = new Layer2Announcer(options, loggerFactory.CreateLogger<Layer2Announcer>());
        announcer.AnnouncementsChanged += list =>
        {
            foreach (var a in list)
            {
                Console.WriteLine($"status {a.Address} {(a.NoAllowedInterface ? "none" : string.Join(',', a.Interfaces))}");
            }
        };
        await announcer.StartAsync();
        Console.WriteLine("ready");

        var applied = 0;
        while (Console.ReadLine() is { } line)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }
            switch (words[0])
            {
                case "own":
                    var owned = words.Skip(1).Select(Parse).ToList();
                    var clock = Stopwatch.StartNew();
                    announcer.SetOwned(owned);
                    var micros = clock.Elapsed.TotalMicroseconds;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"applied {++applied} in {micros:F0} us"));
                    break;
                case "counters":
                    var c = announcer.Counters;
                    var details = string.Join(' ', c.Snapshot().Select(s => $"{s.Kind}.{s.Outcome}={s.Count}"));
                    Console.WriteLine($"counters answered={c.Answered} notowned={c.NotOwned} malformed={c.Malformed} announcements={c.AnnouncementsSent} sendfailures={c.SendFailures} handlerfailures={c.HandlerFailures} {details}");
                    break;
                case "gc":
                    // Process-wide: the receive threads are what runs while a load test is on.
                    Console.WriteLine($"gc allocated={GC.GetTotalAllocatedBytes(precise: true)} gen0={GC.CollectionCount(0)}");
                    break;
                case "status":
                    Console.WriteLine("status-begin");
                    foreach (var a in announcer.Announcements)
                    {
                        Console.WriteLine($"status {a.Address} {(a.NoAllowedInterface ? "none" : string.Join(',', a.Interfaces))}");
                    }
                    Console.WriteLine("status-end");
                    break;
                case "quit":
                    return 0;
                default:
                    Console.WriteLine($"unknown command {words[0]}");
                    break;
            }
        }
        return 0;
    }

    private static OwnedAddress Parse(string word)
    {
        var at = word.IndexOf('@', StringComparison.Ordinal);
        return at < 0
            ? new OwnedAddress(IPAddress.Parse(word))
            : new OwnedAddress(IPAddress.Parse(word[..at]), word[(at + 1)..].Split(','));
    }
}
