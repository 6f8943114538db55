using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using BareLb.Membership;

// One membership node over real UDP, for the namespace tests: it prints what it sees as lines a test can parse,
// stamped with the monotonic clock (shared by every namespace of the machine), and leaves on SIGTERM.
//
//   BareLb.Membership.TestHost --name node-1 --key HEX [--key HEX] --peer node-2=198.51.100.2:7946 ... [--port 7946]
//
// Output lines:
//   ready <name> <boot>
//   change <ns> <member> <previous> <current> <incarnation>
//   counters <ns> <name>=<value> ...            (every second)
//   sigterm <ns>                                 (when the signal arrived)
//   left <ns>                                    (after the last goodbye)
var name = "";
var port = MembershipOptions.DefaultPort;
var keys = new List<byte[]>();
var peers = new List<Peer>();
for (var i = 0; i + 1 < args.Length; i += 2)
{
    var value = args[i + 1];
    switch (args[i])
    {
        case "--name":
            name = value;
            break;
        case "--port":
            port = int.Parse(value, CultureInfo.InvariantCulture);
            break;
        case "--key":
            keys.Add(Convert.FromHexString(value));
            break;
        case "--peer":
            var (peerName, endPoint) = (value[..value.IndexOf('=', StringComparison.Ordinal)], value[(value.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            peers.Add(new Peer(peerName, IPEndPoint.Parse(endPoint)));
            break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}");
            return 2;
    }
}

static long Now() => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

var output = Console.Out;
var gate = new object();
void Print(string line)
{
    lock (gate)
    {
        output.WriteLine(line);
        output.Flush();
    }
}

await using var node = new MembershipNode(name, keys, new MembershipOptions { Port = port });
node.SetPeers(peers);
using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    Print($"sigterm {Now()}");
    stop.Cancel();
});

await node.StartAsync(CancellationToken.None);
Print($"ready {name} {node.Members[0].Boot}");

var changes = Task.Run(async () =>
{
    await foreach (var c in node.Changes.ReadAllAsync(CancellationToken.None))
    {
        Print($"change {Now()} {c.Member} {c.Previous} {c.Current} {c.Incarnation}");
    }
});

try
{
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
    while (await timer.WaitForNextTickAsync(stop.Token))
    {
        var k = node.Counters;
        Print(FormattableString.Invariant(
            $"counters {Now()} sent={k.PacketsSent} received={k.PacketsReceived} authFailures={k.AuthFailures} replays={k.Replays} malformed={k.Malformed} suspicions={k.Suspicions} refutations={k.Refutations} deaths={k.DeathsDeclared} lateTicks={k.LateTicks} health={k.LocalHealth} sendFailures={k.SendFailures}"));
    }
}
catch (OperationCanceledException)
{
}

using var leaveLimit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
await node.LeaveAsync(leaveLimit.Token);
Print($"left {Now()}");
return 0;
