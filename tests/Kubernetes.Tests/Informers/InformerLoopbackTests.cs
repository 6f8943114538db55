using BareLb.Kubernetes.Informers;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Kubernetes.Tests.Informers;

/// <summary>The informer on the real clock against the in-memory API server: nothing faked, nothing injected.</summary>
public sealed class InformerLoopbackTests
{
    [Fact]
    public async Task RunAsync_ServerEndsWatchesByTimeout_ResumesEachTimeWithoutLossOrDuplicate()
    {
        await using var cluster = await TestCluster.StartAsync();
        using var stop = new CancellationTokenSource();
        var client = new FaultInjectingClient(cluster.Client);
        ResourceInformer<V1Service>? informer = null;
        var handler = new RecordingHandler<V1Service>(() => informer!.HasSynced);
        // The server ends every watch after 1-2 s (timeoutSeconds); the informer must pick up where it was.
        informer = new ResourceInformer<V1Service>(client, CoreResources.Services, new ResourceInformerOptions
        {
            Namespace = "default",
            PageSize = 2,
            MinWatchTimeout = TimeSpan.FromSeconds(1),
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(200),
            HealthyWatchDuration = TimeSpan.FromMilliseconds(500),
        }, NullLogger.Instance);
        informer.AddEventHandler(handler);
        var expected = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            expected.Add(Added(await cluster.Client.CreateAsync(CoreResources.Services, Service($"before-{i}"), stop.Token)));
        }

        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(stop.Token).Within();
        // Synced comes a moment before the first watch is opened.
        await client.WaitForCallsAsync(c => c.Verb == "watch", 1);
        for (var round = 0; round < 2; round++)
        {
            var watches = client.WatchesOpened.Count;
            expected.Add(Added(await cluster.Client.CreateAsync(CoreResources.Services, Service($"during-{round}"), stop.Token)));
            await client.WaitForCallsAsync(c => c.Verb == "watch", watches + 1);
        }
        expected.Add(Added(await cluster.Client.CreateAsync(CoreResources.Services, Service("after"), stop.Token)));
        await handler.WaitForCountAsync(expected.Count);

        await stop.CancelAsync();
        await run.Within();
        Assert.Equal(expected.Take(3).Order(), handler.Changes.Take(3).Order());
        Assert.Equal(expected.Skip(3), handler.Changes.Skip(3));
        Assert.All(handler.HasSyncedDuringDelivery.Take(3), Assert.False);
        // Two pages, and never a relist: every watch resumed from where the last one ended.
        Assert.Equal(2, client.Lists.Count);
        var resumedFrom = client.WatchesOpened.Select(w => long.Parse(w.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(resumedFrom.Count >= 3, $"only {resumedFrom.Count} watches");
        Assert.Equal(resumedFrom.Order(), resumedFrom);
    }

    private static V1Service Service(string name) => new()
    {
        Metadata = new V1ObjectMeta { NamespaceProperty = "default", Name = name },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Protocol = "TCP", Port = 80 }] },
    };

    private static string Added(V1Service s) => $"add default/{s.Metadata.Name}@{s.Metadata.ResourceVersion}";
}
