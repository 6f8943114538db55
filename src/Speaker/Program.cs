using System.CommandLine;
using System.Net;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Events;
using BareLb.Membership;
using BareLb.Speaker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Path to a kubeconfig. Default: KUBECONFIG, then in-cluster configuration, then ~/.kube/config." };
var ns = new Option<string>("--namespace") { Description = "Namespace of the BareLb configuration objects and the membership Secret.", DefaultValueFactory = _ => "barelb-system" };
var node = new Option<string?>("--node-name") { Description = "This node's name. Default: NODE_NAME, then the host name." };
var lbClass = new Option<string?>("--lb-class") { Description = "Serve only Services with this spec.loadBalancerClass." };
var bind = new Option<string>("--membership-bind") { Description = "Local address for the membership protocol (UDP).", DefaultValueFactory = _ => "::" };
var port = new Option<int>("--membership-port") { Description = "UDP port of the membership protocol, the same on every node.", DefaultValueFactory = _ => MembershipOptions.DefaultPort };
var root = new RootCommand("barelb-speaker: answers ARP/NDP for the LoadBalancer addresses this node owns")
{
    kubeconfig, ns, node, lbClass, bind, port,
};
root.SetAction(async (parse, ct) =>
{
    ApiConnection connection;
    try
    {
        connection = ApiConnection.Load(parse.GetValue(kubeconfig));
    }
    catch (KubernetesConfigurationException e)
    {
        await Console.Error.WriteLineAsync($"barelb-speaker: {e.Message}");
        return 2;
    }
    if (!IPAddress.TryParse(parse.GetValue(bind), out var bindAddress))
    {
        await Console.Error.WriteLineAsync($"barelb-speaker: --membership-bind: \"{parse.GetValue(bind)}\" is not an IP address");
        return 2;
    }
    if (parse.GetValue(port) is < 1 or > 65535)
    {
        await Console.Error.WriteLineAsync($"barelb-speaker: --membership-port: {parse.GetValue(port)} is not a port number (1-65535)");
        return 2;
    }
    var nodeName = parse.GetValue(node) ?? Environment.GetEnvironmentVariable("NODE_NAME") ?? Environment.MachineName;
    var options = new SpeakerOptions(nodeName, parse.GetValue(ns)!, parse.GetValue(lbClass))
    {
        Membership = new MembershipOptions { BindAddress = bindAddress, Port = parse.GetValue(port) },
    };

    var builder = Host.CreateApplicationBuilder();
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
    });
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton<IKubernetesClient>(sp => new KubernetesClient(connection, logger: sp.GetRequiredService<ILogger<KubernetesClient>>()));
    builder.Services.AddSingleton(sp => new EventRecorder(sp.GetRequiredService<IKubernetesClient>(),
        new EventRecorderOptions { Component = "barelb-speaker", Host = nodeName },
        sp.GetRequiredService<ILogger<EventRecorder>>()));
    builder.Services.AddHostedService<SpeakerService>();
    using var host = builder.Build();
    await host.RunAsync(ct);
    return 0;
});
return await root.Parse(args).InvokeAsync();
