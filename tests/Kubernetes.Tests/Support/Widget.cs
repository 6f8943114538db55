using System.Text.Json.Serialization;
using BareLb.ApiServer;
using BareLb.TestSupport;
using k8s;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Support;

/// <summary>
/// A test-local custom resource whose model is narrower than its CRD, as BareLb's models are narrower than what
/// the API server accepts: spec.size is an int here but int64 in the schema (so 3000000000 is valid on the server
/// and unreadable here), and spec.note and status.note exist only in the schema (fields unknown to the model).
/// </summary>
internal sealed class Widget : IKubernetesObject<V1ObjectMeta>
{
    public static readonly ResourceType<Widget> Type = new("tests.barelb.io", "v1", "Widget", "widgets", namespaced: true);

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = Type.ApiVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = Type.Kind;
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public WidgetSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public WidgetStatus? Status { get; set; }

    public static Widget New(string ns, string name, int size) =>
        new() { Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name }, Spec = new WidgetSpec { Size = size } };

    /// <summary>An in-memory API server that serves widgets.tests.barelb.io/v1 (and everything built in).</summary>
    public static async Task<TestCluster> StartClusterAsync(Action<ApiServerOptions>? configure = null)
    {
        using var dir = new TempDirectory();
        dir.Write("widgets.yaml", Crd);
        var options = new ApiServerOptions { CrdDirectory = dir.Path };
        configure?.Invoke(options);
        // The server reads its CRDs while it starts; the folder may go afterwards.
        return await TestCluster.StartAsync(options);
    }

    private const string Crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.tests.barelb.io
        spec:
          group: tests.barelb.io
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: integer, format: int64}
                      color: {type: string}
                      note: {type: string}
                  status:
                    type: object
                    properties:
                      observedSize: {type: integer, format: int64}
                      note: {type: string}
        """;
}

internal sealed class WidgetSpec
{
    [JsonPropertyName("size")] public int? Size { get; set; }
    [JsonPropertyName("color")] public string? Color { get; set; }
}

internal sealed class WidgetStatus
{
    [JsonPropertyName("observedSize")] public long? ObservedSize { get; set; }
}
