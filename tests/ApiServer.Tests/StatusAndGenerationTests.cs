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

    [Fact]
    public async Task UpdateStatus_SpecAndMetadataChanges_AreIgnored()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("x", type: "LoadBalancer"));
        var body = created.DeepClone().AsObject();
        body["status"] = J("""{"loadBalancer":{"ingress":[{"ip":"203.0.113.5"}]}}""");
        body["spec"]!["sessionAffinity"] = "ClientIP";
        body["metadata"]!["labels"] = new JsonObject { ["changed"] = "yes" };
        var r = await http.PutAsync(Svcs + "/x/status", body);
        Assert.Equal(200, r.Code);
        Assert.Equal("203.0.113.5", r.Body["status"]!["loadBalancer"]!["ingress"]![0]!["ip"]!.GetValue<string>());
        Assert.Equal("VIP", r.Body["status"]!["loadBalancer"]!["ingress"]![0]!["ipMode"]!.GetValue<string>());
        Assert.Equal("None", r.Body["spec"]!["sessionAffinity"]!.GetValue<string>());
        Assert.Null(r.Body["metadata"]!["labels"]);
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
