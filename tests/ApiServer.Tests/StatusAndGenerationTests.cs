using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class StatusAndGenerationTests
{
    private const string Svcs = "/api/v1/namespaces/default/services";

    [Fact]
    public async Task UpdateMain_StatusChange_IsIgnored()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("x", type: "LoadBalancer"));
        var body = created.DeepClone().AsObject();
        body["status"] = J("""{"loadBalancer":{"ingress":[{"ip":"203.0.113.5"}]}}""");
        body["metadata"]!["labels"] = new JsonObject { ["changed"] = "yes" };
        var r = await http.PutAsync(Svcs + "/x", body);
        Assert.Equal(200, r.Code);
        Assert.Equal("yes", r.Body["metadata"]!["labels"]!["changed"]!.GetValue<string>());
        Assert.Null(r.Body["status"]!["loadBalancer"]!["ingress"]);
    }

    // serviceStatusStrategy: the stored spec, the new status and the new metadata (pkg/registry/core/service/strategy.go).
    [Fact]
    public async Task UpdateStatus_Service_KeepsStoredSpecAndNewMetadata()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("x", type: "LoadBalancer"));
        var body = created.DeepClone().AsObject();
        body["status"] = J("""{"loadBalancer":{"ingress":[{"ip":"203.0.113.5"}]}}""");
        body["spec"]!["sessionAffinity"] = "ClientIP";
        body["metadata"]!["labels"] = new JsonObject { ["changed"] = "yes" };
        body["metadata"]!["annotations"] = new JsonObject { ["note"] = "kept" };
        var r = await http.PutAsync(Svcs + "/x/status", body);
        Assert.Equal(200, r.Code);
        Assert.Equal("203.0.113.5", r.Body["status"]!["loadBalancer"]!["ingress"]![0]!["ip"]!.GetValue<string>());
        Assert.Equal("VIP", r.Body["status"]!["loadBalancer"]!["ingress"]![0]!["ipMode"]!.GetValue<string>());
        Assert.Equal("None", r.Body["spec"]!["sessionAffinity"]!.GetValue<string>());
        Assert.Equal("yes", r.Body["metadata"]!["labels"]!["changed"]!.GetValue<string>());
        Assert.Equal("kept", r.Body["metadata"]!["annotations"]!["note"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateStatus_Node_KeepsStoredSpecAndNewMetadata()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync("/api/v1/nodes", J("""{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"spec":{"podCIDR":"198.51.100.0/26"}}"""));
        var body = created.DeepClone().AsObject();
        body["spec"] = J("""{"podCIDR":"203.0.113.0/26","unschedulable":true}""");
        body["status"] = J("""{"addresses":[{"type":"InternalIP","address":"198.51.100.10"}]}""");
        body["metadata"]!["labels"] = new JsonObject { ["zone"] = "a" };
        var r = await http.PutAsync("/api/v1/nodes/n1/status", body);
        Assert.Equal(200, r.Code);
        Assert.True(JsonNode.DeepEquals(J("""{"podCIDR":"198.51.100.0/26"}"""), r.Body["spec"]), r.Body.ToJsonString());
        Assert.Equal("198.51.100.10", r.Body["status"]!["addresses"]![0]!["address"]!.GetValue<string>());
        Assert.Equal("a", r.Body["metadata"]!["labels"]!["zone"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateStatus_Namespace_KeepsStoredSpecAndChecksPhase()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/api/v1/namespaces", J("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}"""));
        var labelled = await http.PatchAsync("/api/v1/namespaces/team/status", J("""{"metadata":{"labels":{"tier":"gold"}},"spec":{"finalizers":[]}}"""));
        Assert.Equal(200, labelled.Code);
        Assert.Equal("gold", labelled.Body["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.Equal(["kubernetes"], labelled.Body["spec"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));

        var terminating = await http.PatchAsync("/api/v1/namespaces/team/status", J("""{"status":{"phase":"Terminating"}}"""));
        Assert.Equal(422, terminating.Code);
        Assert.Equal("Namespace \"team\" is invalid: status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty",
            terminating.Body["message"]!.GetValue<string>());
    }

    // podStatusStrategy keeps the stored ownerReferences: old kubelets corrupted them through /status.
    [Fact]
    public async Task UpdateStatus_Pod_KeepsStoredOwnerReferences()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var owner = await http.CreateAsync("/api/v1/namespaces/default/configmaps", ConfigMap("owner"));
        var pod = J("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}""");
        pod["metadata"]!["ownerReferences"] = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["name"] = "owner", ["uid"] = owner["metadata"]!["uid"]!.GetValue<string>(),
        });
        await http.CreateAsync("/api/v1/namespaces/default/pods", pod);
        var r = await http.PatchAsync("/api/v1/namespaces/default/pods/p/status",
            J("""{"metadata":{"ownerReferences":null,"labels":{"ready":"no"}},"status":{"phase":"Running","qosClass":null}}"""));
        Assert.Equal(200, r.Code);
        Assert.Equal("owner", r.Body["metadata"]!["ownerReferences"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("no", r.Body["metadata"]!["labels"]!["ready"]!.GetValue<string>());
        Assert.Equal("Running", r.Body["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("BestEffort", r.Body["status"]!["qosClass"]!.GetValue<string>());
    }

    // The custom resource status strategy copies the stored object and takes only the new status.
    [Fact]
    public async Task UpdateStatus_CustomResource_DropsMetadataChanges()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.WidgetCrd());
        const string widgets = "/apis/example.com/v1/namespaces/default/widgets";
        await http.CreateAsync(widgets, J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","labels":{"a":"1"}},"spec":{"size":1}}"""));
        var r = await http.PatchAsync(widgets + "/w/status",
            J("""{"metadata":{"labels":{"a":"2"},"annotations":{"x":"y"},"finalizers":["example.com/hold"]},"spec":{"size":9},"status":{"phase":"Ready"}}"""));
        Assert.Equal(200, r.Code);
        Assert.Equal("Ready", r.Body["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("1", r.Body["metadata"]!["labels"]!["a"]!.GetValue<string>());
        Assert.Null(r.Body["metadata"]!["annotations"]);
        Assert.Null(r.Body["metadata"]!["finalizers"]);
        Assert.Equal(1, r.Body["spec"]!["size"]!.GetValue<int>());
    }

    // The CRD status strategy calls ResetObjectMetaForStatus with the new object twice, so metadata changes stay;
    // the CRD finalizer controller relies on it to remove its finalizer through /status.
    [Fact]
    public async Task UpdateStatus_Crd_KeepsMetadataChanges()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        const string crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com";
        await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.WidgetCrd());
        var r = await http.PatchAsync(crd + "/status", J("""{"metadata":{"labels":{"owner":"team"},"finalizers":["example.com/hold"]},"spec":{"scope":"Cluster"}}"""));
        Assert.Equal(200, r.Code);
        Assert.Equal("team", r.Body["metadata"]!["labels"]!["owner"]!.GetValue<string>());
        Assert.Equal(["example.com/hold"], r.Body["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("Namespaced", r.Body["spec"]!["scope"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchStatus_StaleResourceVersion_ReturnsConflict()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("x", type: "LoadBalancer"));
        await http.PatchAsync(Svcs + "/x", J("""{"metadata":{"labels":{"a":"b"}}}"""));
        var patch = J("""{"metadata":{"resourceVersion":"RV"},"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.5"}]}}}""".Replace("RV", created["metadata"]!["resourceVersion"]!.GetValue<string>(), StringComparison.Ordinal));
        var r = await http.PatchAsync(Svcs + "/x/status", patch);
        Assert.Equal(409, r.Code);
    }

    [Fact]
    public async Task Status_OnKindWithoutStatusSubresource_IsNotFound()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/api/v1/namespaces/default/configmaps", ConfigMap("a"));
        var r = await http.PatchAsync("/api/v1/namespaces/default/configmaps/a/status", J("""{"data":{}}"""));
        Assert.Equal(404, r.Code);
    }

    [Fact]
    public async Task Generation_BumpsOnSpecChangesOnly()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.WidgetCrd());
        const string widgets = "/apis/example.com/v1/namespaces/default/widgets";
        var created = await http.CreateAsync(widgets, J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1}}"""));
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<int>());

        var labels = await http.PatchAsync(widgets + "/w", J("""{"metadata":{"labels":{"a":"b"}}}"""));
        Assert.Equal(1, labels.Body["metadata"]!["generation"]!.GetValue<int>());

        var status = await http.PatchAsync(widgets + "/w/status", J("""{"status":{"phase":"Ready"}}"""));
        Assert.Equal(1, status.Body["metadata"]!["generation"]!.GetValue<int>());
        Assert.Equal("Ready", status.Body["status"]!["phase"]!.GetValue<string>());

        var spec = await http.PatchAsync(widgets + "/w", J("""{"spec":{"size":2}}"""));
        Assert.Equal(2, spec.Body["metadata"]!["generation"]!.GetValue<int>());
        Assert.Equal("Ready", spec.Body["status"]!["phase"]!.GetValue<string>());
    }

    [Fact]
    public async Task Generation_DeletionWithFinalizer_Bumps()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.WidgetCrd());
        const string widgets = "/apis/example.com/v1/namespaces/default/widgets";
        await http.CreateAsync(widgets, J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","finalizers":["example.com/f"]},"spec":{"size":1}}"""));
        var deleting = await http.DeleteAsync(widgets + "/w");
        Assert.Equal(2, deleting.Body["metadata"]!["generation"]!.GetValue<int>());
    }

    [Fact]
    public async Task CreateCustomResource_StatusInBody_IsDropped()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.WidgetCrd());
        var created = await http.CreateAsync("/apis/example.com/v1/namespaces/default/widgets",
            J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1},"status":{"phase":"Fake"}}"""));
        Assert.Null(created["status"]);
    }
}
