using System.Net;
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

public sealed class TransientFailureTests
{
    /// <summary>Fails the first few status writes of Services and pools as a struggling API server would.</summary>
    private sealed class FlakyClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
    {
        public int ServiceStatusFailures = 2;
        public int PoolStatusFailures = 2;
        public int Injected;

        private Exception? Fail(ref int budget, bool tooMany)
        {
            if (Interlocked.Decrement(ref budget) < 0)
            {
                return null;
            }
            Interlocked.Increment(ref Injected);
            return tooMany
                ? KubernetesApiException.From((HttpStatusCode)429, new V1Status { Code = 429, Reason = "TooManyRequests", Message = "slow down", Details = new V1StatusDetails { RetryAfterSeconds = 1 } })
                : KubernetesApiException.From(HttpStatusCode.InternalServerError, new V1Status { Code = 500, Reason = "InternalError", Message = "etcd hiccup" });
        }

        public override Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) =>
            (status, type.Kind) switch
            {
                (true, "Service") when Fail(ref ServiceStatusFailures, tooMany: false) is { } e => Task.FromException<T>(e),
                (true, "IPAddressPool") when Fail(ref PoolStatusFailures, tooMany: true) is { } e => Task.FromException<T>(e),
                _ => Inner.PatchAsync(type, ns, name, mergePatch, status, ct),
            };

    }

    [Fact]
    public async Task ApiErrorsOnStatusWrites_ControllerKeepsRunningAndConverges()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var client = new FlakyClient(f.Cluster.Client);
        await f.StartControllerAsync(client);

        await f.CreateServiceAsync(LoadBalancer("web"));

        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("web")));
        Assert.Equal(1, (await f.GetPoolAsync("main")).Status?.AssignedIPv4);
        Assert.Equal(4, client.Injected);
        Assert.False(f.Running!.IsCompleted, "the controller stopped on a transient API error");
    }
}
