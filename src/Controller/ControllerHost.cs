using BareLb.Controller.Configuration;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.LeaderElection;
using BareLb.Kubernetes.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller;

public sealed record ControllerCommandLine(
    string? Kubeconfig, string Namespace, string? LoadBalancerClass, bool LeaderElect, string? Identity, double Qps, int Burst);

/// <summary>Composes the controller: configuration, client, event recorder, leader election, the loop.</summary>
public static class ControllerHost
{
    public static async Task<int> RunAsync(ControllerCommandLine args, CancellationToken ct)
    {
        ApiConnection configuration;
        try
        {
            // --kubeconfig, then KUBECONFIG, then in-cluster, then ~/.kube/config.
            configuration = ApiConnection.Load(args.Kubeconfig);
        }
        catch (KubernetesConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"barelb-controller: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(args);
        builder.Services.AddSingleton<IKubernetesClient>(sp => new KubernetesClient(configuration,
            args.Qps > 0 ? new TokenBucketRateLimiter(args.Qps, args.Burst) : null,
            logger: sp.GetRequiredService<ILogger<KubernetesClient>>()));
        builder.Services.AddSingleton(sp => ControllerEvents.CreateRecorder(sp.GetRequiredService<IKubernetesClient>(), IdentityOf(args),
            sp.GetRequiredService<ILogger<EventRecorder>>()));
        builder.Services.AddSingleton(new LeaderElectionOptions());
        builder.Services.AddHostedService<ControllerService>();
        using var host = builder.Build();
        await host.RunAsync(ct).ConfigureAwait(false);
        return Environment.ExitCode;
    }

    public static string IdentityOf(ControllerCommandLine args) =>
        args.Identity ?? Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName;
}

/// <summary>
/// Runs the event recorder and, while this replica leads (or always, without leader election), the controller
/// loop. Losing leadership does not stop the process: the replica steps down and campaigns again. A graceful stop
/// during an uninstall takes the pool-protection finalizers off (see docs/operations.md).
/// </summary>
public sealed partial class ControllerService(
    IKubernetesClient client,
    EventRecorder events,
    ControllerCommandLine args,
    ILoggerFactory loggerFactory,
    TimeProvider time,
    LeaderElectionOptions election) : BackgroundService
{
    private static readonly TimeSpan UninstallCheckTimeout = TimeSpan.FromSeconds(5);
    private readonly ILogger _logger = loggerFactory.CreateLogger<ControllerService>();

    /// <summary>The replica, once running with leader election (for diagnostics and tests).</summary>
    public LeaderElectedController? Replica { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var recorder = events.RunAsync(stoppingToken);
        var secret = MemberlistSecretWriter.EnsureAsync(client, args.Namespace, _logger, time, stoppingToken);
        var options = new ControllerOptions { Namespace = args.Namespace, LoadBalancerClass = args.LoadBalancerClass };
        try
        {
            if (!args.LeaderElect)
            {
                using var reporting = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var report = new ConfigStatusReporter(client, options.Namespace, events, loggerFactory, time).RunAsync(reporting.Token);
                try
                {
                    await new LoadBalancerController(client, options, events, loggerFactory, time).RunAsync(stoppingToken).ConfigureAwait(false);
                }
                finally
                {
                    await reporting.CancelAsync().ConfigureAwait(false);
                    await report.ConfigureAwait(false);
                }
            }
            else
            {
                Replica = new LeaderElectedController(client, options, events, loggerFactory, time, ControllerHost.IdentityOf(args), election);
                await Replica.RunAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The host stops on a failed background service; a non-zero exit lets the kubelet restart us.
            LogFailed(e);
            Environment.ExitCode = 1;
            throw;
        }
        finally
        {
            if (stoppingToken.IsCancellationRequested)
            {
                using var bounded = new CancellationTokenSource(UninstallCheckTimeout, time);
                await Pools.PoolFinalizers.ReleaseIfUninstallingAsync(client, options.Namespace, _logger, bounded.Token).ConfigureAwait(false);
            }
            try
            {
                await Task.WhenAll(recorder, secret).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [LoggerMessage(1, LogLevel.Critical, "The controller failed")]
    private partial void LogFailed(Exception e);
}
