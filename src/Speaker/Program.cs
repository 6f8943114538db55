using System.CommandLine;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Client;
using BareLb.Speaker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Path to a kubeconfig. Default: KUBECONFIG, then in-cluster configuration, then ~/.kube/config." };
var ns = new Option<string>("--namespace") { Description = "Namespace of the BareLb configuration objects.", DefaultValueFactory = _ => "barelb-system" };
var node = new Option<string?>("--node-name") { Description = "This node's name. Default: NODE_NAME, then the host name." };
var lbClass = new Option<string?>("--lb-class") { Description = "Serve only Services with this spec.loadBalancerClass." };
var root = new RootCommand("barelb-speaker: announces the LoadBalancer addresses this node owns") { kubeconfig, ns, node, lbClass };
root.SetAction(async (parse, ct) =>
{
    ApiConnection configuration;
    try
    {
        configuration = ApiConnection.Load(parse.GetValue(kubeconfig));
    }
    catch (KubernetesConfigurationException e)
    {
        await Console.Error.WriteLineAsync($"barelb-speaker: {e.Message}");
        return 2;
    }
    var options = new SpeakerOptions(
        parse.GetValue(node) ?? Environment.GetEnvironmentVariable("NODE_NAME") ?? Environment.MachineName,
        parse.GetValue(ns)!,
        parse.GetValue(lbClass));

    var builder = Host.CreateApplicationBuilder();
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
    });
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton<IKubernetesClient>(sp => new KubernetesClient(configuration, logger: sp.GetRequiredService<ILogger<KubernetesClient>>()));
    builder.Services.AddHostedService<SpeakerService>();
    using var host = builder.Build();
    await host.RunAsync(ct);
    return 0;
});
return await root.Parse(args).InvokeAsync();
