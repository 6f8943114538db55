using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.LeaderElection;
using Microsoft.Extensions.Logging.Abstractions;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>One controller replica as the binary runs it: leader election, and everything the leader runs.</summary>
internal sealed class ControllerReplica(ControllerFixture f, string identity, LeaderElectionOptions? election = null) : IAsyncDisposable
{
    public static readonly LeaderElectionOptions FastElection = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(3),
        RenewDeadline = TimeSpan.FromSeconds(2),
        RetryPeriod = TimeSpan.FromMilliseconds(200),
    };

    private readonly CancellationTokenSource _stop = new();
    private Task? _run;

    public LeaderElectedController Controller { get; private set; } = null!;
    public EventRecorder Events { get; private set; } = null!;

    public void Start()
    {
        var events = Events = ControllerEvents.CreateRecorder(f.Cluster.Client, identity, NullLogger.Instance);
        Controller = new LeaderElectedController(f.Cluster.Client, new ControllerOptions { Namespace = SystemNamespace }, events,
            NullLoggerFactory.Instance, TimeProvider.System, identity, election ?? FastElection);
        _run = Task.WhenAll(events.RunAsync(_stop.Token), Controller.RunAsync(_stop.Token));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run!;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
