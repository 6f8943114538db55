using BareLb.Layer2.TestHost;

// A process the namespace tests and the layer-2 benchmark start inside a network namespace (ip netns exec), so that
// every socket it opens lives there. Modes:
//   respond [--exclude a,b]   Layer2Announcer driven by stdin lines: "own ADDR[@if,if] ...", "counters", "gc", "status", "quit"
//   flood --interface IF --count N --node-mac MAC --v4 ADDR --v6 ADDR    malformed ARP/NS frames, then exits
//   capture --interface IF --seconds S [--count N]                       SharpPcap capture, one decoded line per reply
//   load --interface IF --target ADDR --seconds S                        ARP requests flat out; counts the replies
//   solicit --interface IF --target ADDR --source ADDR --node-mac MAC     one unicast NS without link-layer option; prints the NAs
var mode = args.Length > 0 ? args[0] : "";
var options = Arguments.Parse(args.Skip(1).ToArray());
return mode switch
{
    "respond" => await RespondMode.RunAsync(options),
    "flood" => FloodMode.Run(options),
    "capture" => CaptureMode.Run(options),
    "load" => LoadMode.Run(options),
    "solicit" => SolicitMode.Run(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: BareLb.Layer2.TestHost respond|flood|capture|load [--name value ...]");
    return 2;
}
