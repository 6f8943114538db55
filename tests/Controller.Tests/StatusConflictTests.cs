using System.Text.Json.Nodes;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using BareLb.TestSupport;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

public sealed class StatusConflictTests
{
    /// <summary>
    /// Passes everything through, but before the first status update of each Service another writer changes the
    /// Service (a label), so the controller's status patch carries a stale resourceVersion and the server answers 409.
    /// </summary>
    private sealed class InterferingClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
    {
        private readonly HashSet<string> _interfered = [];
        public int Conflicts;

        public override async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
        {
            if (!status || type.Kind != "Service")
            {
                return await Inner.PatchAsync(type, ns, name, mergePatch, status, ct);
            }
            if (_interfered.Add(name))
            {
                var patch = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["touched"] = "yes" } } };
                await Inner.PatchAsync(type, ns, name, patch, status: false, ct);
            }
            try
            {
                return await Inner.PatchAsync(type, ns, name, mergePatch, status, ct);
            }
            catch (ConflictException)
            {
                Interlocked.Increment(ref Conflicts);
                throw;
            }
        }

    }

    [Fact]
    public async Task StatusWrite_StaleResourceVersion_RetriedWithFreshReadKeepingOtherWritersChange()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var client = new InterferingClient(f.Cluster.Client);
        await f.StartControllerAsync(client);

        await f.CreateServiceAsync(LoadBalancer("web"));
        var service = await f.WaitForIngressAsync("web");

        Assert.Equal(["198.51.100.0"], Ingress(service));
        Assert.Equal("yes", service.Metadata.Labels?["touched"]);
        Assert.True(client.Conflicts >= 1, "the interfering write did not cause a 409");
    }
}
