using System.Diagnostics;
using System.Globalization;
using System.Net;
using BareLb.Bgp;
using BareLb.Bgp.TestHost;

// A BGP speaker process for tests and benchmarks run inside a network namespace. Options on the command line
// (see HostArguments), commands on standard input, one per line:
//   routes SPEC...         replace the advertised set (SPEC: prefix[;nh=ADDR][;c=COMM,COMM][;lc=G:L1:L2,...][;lp=N])
//   generate N [BASE]      replace it with N IPv6 /64s counted up from BASE (default 2001:db8:a::/64)
//   start                  start the session (when started with --wait-start)
//   counters | mem         print the session counters / this process's memory after a full GC
//   stop | stop-restart    stop (Cease, or silently when graceful restart was negotiated) and exit
// State changes print as "STATE <state>" lines.
var options = HostArguments.Parse(args, out var initialRoutes);
var output = new LineWriter();
var sinceStart = Stopwatch.StartNew();
await using var session = new BgpSession(options, new StdoutLogger<BgpSession>(output));
session.SetRoutes(initialRoutes);
_ = Task.Run(async () =>
{
    var last = (BgpSessionState)(-1);
    while (true)
    {
        var state = session.State;
        if (state != last)
        {
            output.Line($"STATE {state} {sinceStart.Elapsed.TotalMilliseconds:0.0}ms");
            last = state;
        }
        await Task.Delay(5);
    }
});
var waitForStart = args.Contains("--wait-start");
if (!waitForStart)
{
    await session.StartAsync();
}
output.Line("READY");

while (Console.ReadLine() is { } line)
{
    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (words.Length == 0)
    {
        continue;
    }
    switch (words[0])
    {
        case "routes":
            session.SetRoutes(words.Skip(1).Select(HostArguments.ParseRoute).ToArray());
            output.Line("OK routes");
            break;
        case "generate":
            var count = int.Parse(words[1], CultureInfo.InvariantCulture);
            var first = words.Length > 2 ? IPNetwork.Parse(words[2]) : IPNetwork.Parse("2001:db8:a::/64");
            session.SetRoutes(HostArguments.Generate(first, count));
            output.Line($"OK generate {count}");
            break;
        case "start":
            sinceStart.Restart();
            await session.StartAsync();
            break;
        case "counters":
            var c = session.Counters;
            output.Line($"COUNTERS at={sinceStart.Elapsed.TotalMilliseconds:0.0}ms advertised4={c.AdvertisedIPv4} advertised6={c.AdvertisedIPv6} pending={c.PendingChanges} updatesSent={c.UpdatesSent} established={c.EstablishedTransitions} notificationsSent={c.NotificationsSent} notificationsReceived={c.NotificationsReceived} error={session.LastError}");
            break;
        case "mem":
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            using (var self = Process.GetCurrentProcess())
            {
                output.Line($"MEM managed={GC.GetTotalMemory(false)} rss={self.WorkingSet64}");
            }
            break;
        case "stop":
        case "stop-restart":
            await session.StopAsync(words[0] == "stop" ? BgpStopMode.Shutdown : BgpStopMode.Restart);
            output.Line("STOPPED");
            return 0;
        default:
            output.Line($"ERROR unknown command {words[0]}");
            break;
    }
}
return 0;
