using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

// Namespace and CRD deletion as a real cluster performs it: the DELETE marks, the emulated namespace controller and
// CRD finalizer do the rest asynchronously, and finalizers on the content hold everything in Terminating.
public sealed class DeletionTests
{
    private const string Crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    private const string Widgets = "/apis/example.com/v1/namespaces/team/widgets";

    private static async Task<KubeHttp> WithTeamAsync(ApiServerFixture api)
    {
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/api/v1/namespaces", J("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}"""));
        return http;
    }

    private static JsonObject Widget(string name, string? finalizer = null)
    {
        var w = J($$$"""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"{{{name}}}"},"spec":{"size":1}}""");
        if (finalizer is not null)
        {
            w["metadata"]!["finalizers"] = new JsonArray(finalizer);
        }

        return w;
    }

    private static JsonObject Condition(JsonObject obj, string type) =>
        obj["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == type)!.AsObject();

    [Fact]
    public async Task DeleteNamespace_ContentWithFinalizers_ReportsConditionsAndWaits()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithTeamAsync(api);
        await http.CreateAsync("/api/v1/namespaces/team/configmaps", ConfigMap("held", meta: m => m["finalizers"] = new JsonArray("x.io/hold")));
        await http.CreateAsync("/api/v1/namespaces/team/configmaps", ConfigMap("free"));

        var deleting = await http.DeleteAsync("/api/v1/namespaces/team");
        Assert.Equal(200, deleting.Code);
        Assert.NotNull(deleting.Body["metadata"]!["deletionTimestamp"]);
        Assert.Equal(["kubernetes"], deleting.Body["spec"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));

        await api.Server.WhenControllersIdleAsync();
        var ns = (await http.GetAsync("/api/v1/namespaces/team")).Body;
        Assert.Equal("Terminating", ns["status"]!["phase"]!.GetValue<string>());
        var content = Condition(ns, "NamespaceContentRemaining");
        Assert.Equal("True", content["status"]!.GetValue<string>());
        Assert.Equal("SomeResourcesRemain", content["reason"]!.GetValue<string>());
        Assert.Equal("Some resources are remaining: configmaps. has 1 resource instances", content["message"]!.GetValue<string>());
        var finalizers = Condition(ns, "NamespaceFinalizersRemaining");
        Assert.Equal("Some finalizers are remaining: x.io/hold in 1 resource instances", finalizers["message"]!.GetValue<string>());
        Assert.Equal("False", Condition(ns, "NamespaceDeletionDiscoveryFailure")["status"]!.GetValue<string>());
        Assert.Equal(404, (await http.GetAsync("/api/v1/namespaces/team/configmaps/free")).Code);
        Assert.NotNull((await http.GetAsync("/api/v1/namespaces/team/configmaps/held")).Body["metadata"]!["deletionTimestamp"]);

        await http.PatchAsync("/api/v1/namespaces/team/configmaps/held", J("""{"metadata":{"finalizers":null}}"""));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync("/api/v1/namespaces/team")).Code);
    }

    // The NamespaceLifecycle admission plugin, cause included (client-go's event recorders look for it).
    [Fact]
    public async Task CreateInTerminatingNamespace_IsForbiddenWithNamespaceTerminatingCause()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithTeamAsync(api);
        await http.CreateAsync("/api/v1/namespaces/team/configmaps", ConfigMap("held", meta: m => m["finalizers"] = new JsonArray("x.io/hold")));
        await http.DeleteAsync("/api/v1/namespaces/team");
        var r = await http.PostAsync("/api/v1/namespaces/team/configmaps", ConfigMap("late"));
        Assert.Equal(403, r.Code);
        Assert.Equal("configmaps \"late\" is forbidden: unable to create new content in namespace team because it is being terminated",
            r.Body["message"]!.GetValue<string>());
        var cause = Assert.Single(r.Body["details"]!["causes"]!.AsArray())!;
        Assert.Equal("NamespaceTerminating", cause["reason"]!.GetValue<string>());
        Assert.Equal("metadata.namespace", cause["field"]!.GetValue<string>());
        Assert.Equal(200, (await http.PatchAsync("/api/v1/namespaces/team/configmaps/held", J("""{"data":{"k":"still writable"}}"""))).Code);
    }

    [Fact]
    public async Task DeleteNamespace_ForeignSpecFinalizer_StaysUntilFinalized()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync("/api/v1/namespaces",
            J("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"},"spec":{"finalizers":["example.com/audit"]}}"""));
        Assert.Equal(["example.com/audit", "kubernetes"], created["spec"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));

        await http.DeleteAsync("/api/v1/namespaces/team");
        await api.Server.WhenControllersIdleAsync();
        var ns = (await http.GetAsync("/api/v1/namespaces/team")).Body;
        Assert.Equal(["example.com/audit"], ns["spec"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("False", Condition(ns, "NamespaceContentRemaining")["status"]!.GetValue<string>());

        Assert.Equal(405, (await http.GetAsync("/api/v1/namespaces/team/finalize")).Code);
        ns["spec"]!["finalizers"] = new JsonArray();
        var finalized = await http.PutAsync("/api/v1/namespaces/team/finalize", ns);
        Assert.Equal(200, finalized.Code);
        Assert.Equal(404, (await http.GetAsync("/api/v1/namespaces/team")).Code);
    }

    [Fact]
    public async Task Finalize_BadFinalizerName_IsInvalid()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithTeamAsync(api);
        var ns = (await http.GetAsync("/api/v1/namespaces/team")).Body;
        ns["spec"]!["finalizers"] = new JsonArray("kubernetes", "audit");
        var r = await http.PutAsync("/api/v1/namespaces/team/finalize", ns);
        Assert.Equal(422, r.Code);
        Assert.Equal("Namespace \"team\" is invalid: spec.finalizers[1]: Invalid value: \"audit\": name is neither a standard finalizer name nor is it fully qualified",
            r.Body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeleteCrd_InstanceWithFinalizer_CrdTerminatingAndCreatesRefused()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithTeamAsync(api);
        await http.CreateAsync(Crds, CrdFixtures.WidgetCrd());
        await http.CreateAsync(Widgets, Widget("held", "example.com/protect"));
        await http.CreateAsync(Widgets, Widget("free"));

        var deleting = await http.DeleteAsync(Crds + "/widgets.example.com");
        Assert.Equal(200, deleting.Code);
        Assert.Equal(["customresourcecleanup.apiextensions.k8s.io"], deleting.Body["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("InstanceDeletionPending", Condition(deleting.Body, "Terminating")["reason"]!.GetValue<string>());

        await api.Server.WhenControllersIdleAsync();
        var crd = (await http.GetAsync(Crds + "/widgets.example.com")).Body;
        var terminating = Condition(crd, "Terminating");
        Assert.Equal("True", terminating["status"]!.GetValue<string>());
        Assert.Equal("InstanceDeletionInProgress", terminating["reason"]!.GetValue<string>());
        Assert.Equal("CustomResource deletion is in progress", terminating["message"]!.GetValue<string>());
        Assert.Equal(404, (await http.GetAsync(Widgets + "/free")).Code);
        Assert.NotNull((await http.GetAsync(Widgets + "/held")).Body["metadata"]!["deletionTimestamp"]);

        var create = await http.PostAsync(Widgets, Widget("late"));
        Assert.Equal(405, create.Code);
        Assert.Equal("MethodNotAllowed", create.Reason);
        Assert.Equal("create not allowed while custom resource definition is terminating", create.Body["message"]!.GetValue<string>());

        await http.PatchAsync(Widgets + "/held", J("""{"metadata":{"finalizers":null}}"""));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync(Crds + "/widgets.example.com")).Code);
        Assert.Equal(404, (await http.GetAsync(Widgets)).Code);
    }

    // The uninstall fault of issue 7: `kubectl delete -f` removes the controller that would release the pools'
    // finalizer, so the pools, their namespace and their CRD all stay Terminating.
    [Fact]
    public async Task DeleteNamespaceAndCrd_InstancesKeepFinalizer_BothStayTerminating()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithTeamAsync(api);
        await http.CreateAsync(Crds, CrdFixtures.WidgetCrd());
        await http.CreateAsync(Widgets, Widget("pool", "barelb.io/pool-protection"));

        await http.DeleteAsync(Crds + "/widgets.example.com");
        await http.DeleteAsync("/api/v1/namespaces/team");
        await api.Server.WhenControllersIdleAsync();

        Assert.Equal("Terminating", (await http.GetAsync("/api/v1/namespaces/team")).Body["status"]!["phase"]!.GetValue<string>());
        var ns = (await http.GetAsync("/api/v1/namespaces/team")).Body;
        Assert.Equal("Some resources are remaining: widgets.example.com has 1 resource instances",
            Condition(ns, "NamespaceContentRemaining")["message"]!.GetValue<string>());
        Assert.Equal("True", Condition((await http.GetAsync(Crds + "/widgets.example.com")).Body, "Terminating")["status"]!.GetValue<string>());

        await http.PatchAsync(Widgets + "/pool", J("""{"metadata":{"finalizers":null}}"""));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync(Crds + "/widgets.example.com")).Code);
        Assert.Equal(404, (await http.GetAsync("/api/v1/namespaces/team")).Code);
    }

    [Fact]
    public async Task DeleteCrd_ForcedFinalizerRemoval_InstancesComeBackWithTheCrd()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithTeamAsync(api);
        await http.CreateAsync(Crds, CrdFixtures.WidgetCrd());
        await http.CreateAsync(Widgets, Widget("pool", "barelb.io/pool-protection"));
        await http.DeleteAsync(Crds + "/widgets.example.com");
        await api.Server.WhenControllersIdleAsync();

        var forced = await http.PatchAsync(Crds + "/widgets.example.com", J("""{"metadata":{"finalizers":null}}"""));
        Assert.Equal(200, forced.Code);
        Assert.Equal(404, (await http.GetAsync(Crds + "/widgets.example.com")).Code);

        await http.CreateAsync(Crds, CrdFixtures.WidgetCrd());
        var back = await http.GetAsync(Widgets + "/pool");
        Assert.Equal(200, back.Code);
        Assert.NotNull(back.Body["metadata"]!["deletionTimestamp"]);
    }
}
