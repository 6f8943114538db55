using System.Text.Json.Nodes;
using BareLb.Kubernetes;
using BareLb.TestSupport;

namespace BareLb.Controller.Tests.Support;

/// <summary>
/// Plays an API server that drops metadata written through a Service's <c>/status</c> (kube-apiserver keeps it: its
/// Service status strategy resets only the spec, pkg/registry/core/service/strategy.go; the emulator does the same).
/// The controller must then notice that its annotation did not stick and write it with a second patch.
/// </summary>
public sealed class MetadataDroppedOnStatusClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
{
    public override Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
    {
        if (status && type.Kind == "Service" && mergePatch["metadata"] is JsonObject metadata && metadata.ContainsKey("annotations"))
        {
            var stripped = mergePatch.DeepClone();
            ((JsonObject)stripped["metadata"]!).Remove("annotations");
            return Inner.PatchAsync(type, ns, name, stripped, status, ct);
        }
        return Inner.PatchAsync(type, ns, name, mergePatch, status, ct);
    }
}
