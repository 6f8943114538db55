using BareLb.Controller.Configuration;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.LeaderElection;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller;

/// <summary>
/// One controller replica: it competes for the Lease and runs a fresh <see cref="LoadBalancerController"/> for each
/// term it leads. Losing the Lease (another replica took it, or the API was unreachable for longer than the renew
/// deadline) ends the term: its controller is cancelled and stops writing before the Lease can pass on. The replica
/// then campaigns again in the same process; a new term starts from the API's state (caches listed afresh, every
/// address restored from Service status), so nothing moves across terms and nothing needs a process restart.
/// </summary>
public sealed partial class LeaderElectedController(
    IKubernetesClient client,
    ControllerOptions options,
    EventRecorder events,
    ILoggerFactory loggerFactory,
    TimeProvider time,
    string identity,
    LeaderElectionOptions election)
{
    public const string LeaseName = "barelb-controller";

    private readonly ILogger _logger = loggerFactory.CreateLogger<LeaderElectedController>();
    private volatile LoadBalancerController? _current;
    private int _terms;

    /// <summary>The controller of the current term, while this replica leads.</summary>
    public LoadBalancerController? Current => _current;

    /// <summary>Terms this replica has led so far.</summary>
    public int Terms => Volatile.Read(ref _terms);

    /// <summary>Campaigns, leads, steps down and campaigns again until <paramref name="ct"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken ct)
    {
        var elector = new LeaderElector(
            new LeaseLock(client, options.Namespace, LeaseName, identity),
            election,
            new LeaderElectionCallbacks
            {
                OnStartedLeading = async leading =>
                {
                    var term = Interlocked.Increment(ref _terms);
                    LogLeading(identity, term);
                    var controller = new LoadBalancerController(client, options, events, loggerFactory, time);
                    var configuration = new ConfigStatusReporter(client, options.Namespace, events, loggerFactory, time);
                    _current = controller;
                    // The configuration report rides along; the term ends with the controller (which ends it).
                    using var reporting = CancellationTokenSource.CreateLinkedTokenSource(leading);
                    var report = configuration.RunAsync(reporting.Token);
                    try
                    {
                        await controller.RunAsync(leading).ConfigureAwait(false);
                    }
                    finally
                    {
                        _current = null;
                        await reporting.CancelAsync().ConfigureAwait(false);
                        await report.ConfigureAwait(false);
                    }
                },
                OnStoppedLeading = () =>
                {
                    if (!ct.IsCancellationRequested)
                    {
                        LogSteppedDown(identity);
                    }
                },
                OnNewLeader = leader => LogNewLeader(leader),
            },
            loggerFactory.CreateLogger<LeaderElector>(), time);
        return elector.RunAsync(ct);
    }

    [LoggerMessage(1, LogLevel.Information, "{Identity} is now the leader (term {Term} of this replica)")]
    private partial void LogLeading(string identity, int term);

    [LoggerMessage(2, LogLevel.Warning, "{Identity} stepped down; its controller has stopped writing, campaigning again")]
    private partial void LogSteppedDown(string identity);

    [LoggerMessage(3, LogLevel.Information, "Current leader: {Leader}")]
    private partial void LogNewLeader(string leader);
}
