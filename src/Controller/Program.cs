using System.CommandLine;
using BareLb.Controller;

var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Path to a kubeconfig. Default: KUBECONFIG, then in-cluster configuration, then ~/.kube/config." };
var ns = new Option<string>("--namespace") { Description = "Namespace of the IPAddressPools and the leader-election Lease.", DefaultValueFactory = _ => "barelb-system" };
var lbClass = new Option<string?>("--lb-class") { Description = "Serve only Services with this spec.loadBalancerClass. Default: only Services without one." };
var leaderElect = new Option<bool>("--leader-elect") { Description = "Run only while holding the Lease (for several replicas).", DefaultValueFactory = _ => true };
var identity = new Option<string?>("--identity") { Description = "Leader-election identity. Default: POD_NAME, then the host name." };
var qps = new Option<double>("--kube-api-qps") { Description = "Client-side limit on API requests per second (0: none).", DefaultValueFactory = _ => 100 };
var burst = new Option<int>("--kube-api-burst") { Description = "Requests allowed above the QPS limit in a burst.", DefaultValueFactory = _ => 200 };

var root = new RootCommand("barelb-controller: gives type LoadBalancer Services an address from an IPAddressPool")
{
    kubeconfig, ns, lbClass, leaderElect, identity, qps, burst,
};
root.SetAction((parse, ct) => ControllerHost.RunAsync(new ControllerCommandLine(
    parse.GetValue(kubeconfig),
    parse.GetValue(ns)!,
    parse.GetValue(lbClass),
    parse.GetValue(leaderElect),
    parse.GetValue(identity),
    parse.GetValue(qps),
    parse.GetValue(burst)), ct));
return await root.Parse(args).InvokeAsync();
