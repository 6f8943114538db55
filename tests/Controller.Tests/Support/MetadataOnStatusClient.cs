using System.Text.Json.Nodes;
using BareLb.Kubernetes;
using BareLb.TestSupport;

namespace BareLb.Controller.Tests.Support;

/// <summary>
/// Makes the in-memory API server keep metadata written through a Service's <c>/status</c>, as kube-apiserver does
/// (its Service status strategy resets only the spec: pkg/registry/core/service/strategy.go, serviceStatusStrategy).
/// One request of the caller becomes two at the emulator; callers above this client see one, as against a real server.
/// </summary>
public sealed class MetadataOnStatusClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
{
    public override async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
    {
        var written = await Inner.PatchAsync(type, ns, name, mergePatch, status, ct);
        if (!status || type.Kind != "Service" || mergePatch["metadata"]?["annotations"] is not JsonObject annotations)
        {
            return written;
        }
        var metadata = new JsonObject
        {
            ["resourceVersion"] = written.Metadata.ResourceVersion,
            ["annotations"] = annotations.DeepClone(),
        };
        return await Inner.PatchAsync(type, ns, name, new JsonObject { ["metadata"] = metadata }, status: false, ct);
    }
}
