using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.LeaderElection;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller;

/// <summary>
/// One controller replica: it competes for the Lease and runs a fresh <see cref="LoadBalancerController"/> while
/// it leads. A fresh controller per term means each term starts from the API's state, never from a cache that
/// another leader may have changed underneath.
/// </summary>
public sealed partial class LeaderElectedController(
    IKubernetesClient client,
    ControllerOptions options,
    EventRecorder events,
    ILoggerFactory loggerFactory,
    TimeProvider time,
    string identity,
    LeaderElectionOptions election,
    Action onLostLeadership)
{
    public const string LeaseName = "barelb-controller";

    private readonly ILogger _logger = loggerFactory.CreateLogger<LeaderElectedController>();
    private volatile LoadBalancerController? _current;

    /// <summary>The controller of the current term, while this replica leads.</summary>
    public LoadBalancerController? Current => _current;

    public Task RunAsync(CancellationToken ct)
    {
        var elector = new LeaderElector(
            new LeaseLock(client, options.Namespace, LeaseName, identity),
            election,
            new LeaderElectionCallbacks
            {
                OnStartedLeading = async leading =>
                {
                    LogLeading(identity);
                    var controller = new LoadBalancerController(client, options, events, loggerFactory, time);
                    _current = controller;
                    try
                    {
                        await controller.RunAsync(leading).ConfigureAwait(false);
                    }
                    finally
                    {
                        _current = null;
                    }
                },
                OnStoppedLeading = () =>
                {
                    if (!ct.IsCancellationRequested)
                    {
                        LogLostLeadership(identity);
                        onLostLeadership();
                    }
                },
                OnNewLeader = leader => LogNewLeader(leader),
            },
            loggerFactory.CreateLogger<LeaderElector>(), time);
        return elector.RunAsync(ct);
    }

    [LoggerMessage(1, LogLevel.Information, "{Identity} is now the leader")]
    private partial void LogLeading(string identity);

    [LoggerMessage(2, LogLevel.Error, "{Identity} lost leadership")]
    private partial void LogLostLeadership(string identity);

    [LoggerMessage(3, LogLevel.Information, "Current leader: {Leader}")]
    private partial void LogNewLeader(string leader);
}
