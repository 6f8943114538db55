using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task DeleteNamespace_ObjectWithFinalizer_KeepsNamespaceTerminatingUntilReleased()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/api/v1/namespaces", J("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}"""));
        await http.CreateAsync("/api/v1/namespaces/team/configmaps", ConfigMap("held", meta: m => m["finalizers"] = new JsonArray("x.io/hold")));
        await http.CreateAsync("/api/v1/namespaces/team/configmaps", ConfigMap("free"));

        var deleting = await http.DeleteAsync("/api/v1/namespaces/team");
        Assert.Equal(200, deleting.Code);
        Assert.Equal("Terminating", deleting.Body["status"]!["phase"]!.GetValue<string>());
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync("/api/v1/namespaces/team/configmaps/free")).Code);
        Assert.NotNull((await http.GetAsync("/api/v1/namespaces/team/configmaps/held")).Body["metadata"]!["deletionTimestamp"]);

        var create = await http.PostAsync("/api/v1/namespaces/team/configmaps", ConfigMap("late"));
        Assert.Equal(403, create.Code);
        Assert.Contains("because it is being terminated", create.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);

        await http.PatchAsync("/api/v1/namespaces/team/configmaps/held", J("""{"metadata":{"finalizers":null}}"""));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync("/api/v1/namespaces/team")).Code);
    }

    [Fact]
    public async Task DeleteCrd_OpenWatchOnItsKind_GetsDeletedEventsThenEnds()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.WidgetCrd());
        await http.CreateAsync(CrdFixtures.WidgetsPath, J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1}}"""));
        await using var watch = await WatchStream.OpenAsync(api.Http, CrdFixtures.WidgetsPath + "?watch=true&resourceVersion=" + api.Server.CurrentResourceVersion);
        await http.DeleteAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
        Assert.Equal("w", (await watch.ExpectAsync("DELETED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Null(await watch.NextAsync());
    }

    [Fact]
    public async Task Watch_SendInitialEvents_EndsInitialStateWithAnnotatedBookmark()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/api/v1/namespaces/default/configmaps", ConfigMap("a"));
        await using var watch = await WatchStream.OpenAsync(api.Http,
            "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");
        await watch.ExpectAsync("ADDED");
        var bookmark = await watch.ExpectAsync("BOOKMARK");
        Assert.Equal("true", bookmark["object"]!["metadata"]!["annotations"]!["k8s.io/initial-events-end"]!.GetValue<string>());
        Assert.Equal(api.Server.CurrentResourceVersion, Rv(bookmark["object"]!));
    }

    [Fact]
    public async Task UpdateCrd_NewSchemaField_IsServedImmediately()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var crd = await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.WidgetCrd());
        var pruned = await http.CreateAsync(CrdFixtures.WidgetsPath, J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a"},"spec":{"shape":"round"}}"""));
        Assert.Null(pruned["spec"]!["shape"]);

        crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["shape"] = J("""{"type":"string"}""");
        var updated = await http.PutAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", crd);
        Assert.Equal(200, updated.Code);
        Assert.Equal(2, updated.Body["metadata"]!["generation"]!.GetValue<int>());
        var kept = await http.CreateAsync(CrdFixtures.WidgetsPath, J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"b"},"spec":{"shape":"round"}}"""));
        Assert.Equal("round", kept["spec"]!["shape"]!.GetValue<string>());
    }
}
