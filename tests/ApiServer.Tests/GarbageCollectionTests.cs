using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

// The emulated garbage collector: ownerReferences and the three deletion propagation policies.
public sealed class GarbageCollectionTests
{
    private const string Svcs = "/api/v1/namespaces/default/services";
    private const string Cms = "/api/v1/namespaces/default/configmaps";

    private static JsonObject OwnedBy(string name, params (JsonObject Owner, bool Block)[] owners) => ConfigMap(name, meta: m =>
        m["ownerReferences"] = new JsonArray(owners.Select(o => (JsonNode?)new JsonObject
        {
            ["apiVersion"] = o.Owner["apiVersion"]!.GetValue<string>(),
            ["kind"] = o.Owner["kind"]!.GetValue<string>(),
            ["name"] = o.Owner["metadata"]!["name"]!.GetValue<string>(),
            ["uid"] = o.Owner["metadata"]!["uid"]!.GetValue<string>(),
            ["blockOwnerDeletion"] = o.Block,
        }).ToArray()));

    [Fact]
    public async Task DeleteOwner_Background_DeletesDependents()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var svc = await http.CreateAsync(Svcs, Service("web"));
        await http.CreateAsync(Cms, OwnedBy("status", (svc, false)));
        await http.CreateAsync(Cms, OwnedBy("held", (svc, false)).Also(c => c["metadata"]!["finalizers"] = new JsonArray("x.io/hold")));

        Assert.Equal(200, (await http.DeleteAsync(Svcs + "/web")).Code);
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync(Cms + "/status")).Code);
        Assert.NotNull((await http.GetAsync(Cms + "/held")).Body["metadata"]!["deletionTimestamp"]);
    }

    [Fact]
    public async Task DeleteOneOfTwoOwners_DependentLosesOnlyThatReference()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var a = await http.CreateAsync(Svcs, Service("a"));
        var b = await http.CreateAsync(Svcs, Service("b"));
        await http.CreateAsync(Cms, OwnedBy("shared", (a, false), (b, false)));

        await http.DeleteAsync(Svcs + "/a");
        await api.Server.WhenControllersIdleAsync();
        var shared = (await http.GetAsync(Cms + "/shared")).Body;
        Assert.Equal(["b"], shared["metadata"]!["ownerReferences"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task DeleteOwner_Orphan_DependentsStayWithoutTheReference()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var svc = await http.CreateAsync(Svcs, Service("web"));
        await http.CreateAsync(Cms, OwnedBy("status", (svc, true)));

        var deleting = await http.DeleteAsync(Svcs + "/web", J("""{"propagationPolicy":"Orphan"}"""));
        Assert.Equal(200, deleting.Code);
        Assert.Equal(["orphan"], deleting.Body["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync(Svcs + "/web")).Code);
        var orphan = await http.GetAsync(Cms + "/status");
        Assert.Equal(200, orphan.Code);
        Assert.Null(orphan.Body["metadata"]!["ownerReferences"]);
    }

    [Fact]
    public async Task DeleteOwner_Foreground_OwnerWaitsForBlockingDependents()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var svc = await http.CreateAsync(Svcs, Service("web"));
        await http.CreateAsync(Cms, OwnedBy("blocking", (svc, true)).Also(c => c["metadata"]!["finalizers"] = new JsonArray("x.io/hold")));
        await http.CreateAsync(Cms, OwnedBy("plain", (svc, false)));

        var deleting = await http.DeleteAsync(Svcs + "/web?propagationPolicy=Foreground");
        Assert.Equal(["foregroundDeletion"], deleting.Body["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync(Cms + "/plain")).Code);
        Assert.NotNull((await http.GetAsync(Cms + "/blocking")).Body["metadata"]!["deletionTimestamp"]);
        Assert.Equal(200, (await http.GetAsync(Svcs + "/web")).Code);

        await http.PatchAsync(Cms + "/blocking", J("""{"metadata":{"finalizers":null}}"""));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync(Cms + "/blocking")).Code);
        Assert.Equal(404, (await http.GetAsync(Svcs + "/web")).Code);
    }

    [Fact]
    public async Task CreateDependent_OwnerMissingOrReplaced_IsCollected()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var svc = await http.CreateAsync(Svcs, Service("web"));
        var stale = svc.DeepClone().AsObject();
        stale["metadata"]!["uid"] = "00000000-0000-0000-0000-000000000000";
        await http.CreateAsync(Cms, OwnedBy("wrong-uid", (stale, false)));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync(Cms + "/wrong-uid")).Code);
    }

    // References the collector cannot resolve are left alone, as the real one leaves them.
    [Fact]
    public async Task CreateDependent_OwnerOfUnservedKind_IsKept()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var deployment = J("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","uid":"11111111-1111-1111-1111-111111111111"}}""");
        await http.CreateAsync(Cms, OwnedBy("kept", (deployment, false)));
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(200, (await http.GetAsync(Cms + "/kept")).Code);
    }

    [Fact]
    public async Task Create_TwoControllerReferences_IsInvalid()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var body = ConfigMap("c", meta: m => m["ownerReferences"] = J("""
            {"list":[{"apiVersion":"v1","kind":"Service","name":"a","uid":"1","controller":true},
                     {"apiVersion":"v1","kind":"Service","name":"b","uid":"2","controller":true},
                     {"apiVersion":"","kind":"Service","name":"c","uid":""}]}
            """)["list"]!.DeepClone());
        var r = await http.PostAsync(Cms, body);
        Assert.Equal(422, r.Code);
        var messages = r.Body["details"]!["causes"]!.AsArray().Select(c => c!["field"]!.GetValue<string>() + ": " + c["message"]!.GetValue<string>()).ToList();
        Assert.Contains(messages, m => m.StartsWith("metadata.ownerReferences: Invalid value: ", StringComparison.Ordinal) &&
            m.EndsWith("Only one reference can have Controller set to true. Found \"true\" in references for Service/a and Service/b", StringComparison.Ordinal));
        Assert.Contains("metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty", messages);
        Assert.Contains("metadata.ownerReferences.uid: Invalid value: \"\": must not be empty", messages);
    }

    [Theory]
    [InlineData("""{"propagationPolicy":"Sometimes"}""", "propagationPolicy: Unsupported value: \"Sometimes\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")]
    [InlineData("""{"propagationPolicy":"Orphan","orphanDependents":true}""", "propagationPolicy: Invalid value: \"Orphan\": orphanDependents and deletionPropagation cannot be both set")]
    public async Task Delete_InvalidDeleteOptions_IsInvalid(string options, string message)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        var r = await http.DeleteAsync(Cms + "/a", J(options));
        Assert.Equal(422, r.Code);
        Assert.Equal("DeleteOptions.meta.k8s.io \"\" is invalid: " + message, r.Body["message"]!.GetValue<string>());
    }
}

internal static class JsonObjectExtensions
{
    public static JsonObject Also(this JsonObject obj, Action<JsonObject> change)
    {
        change(obj);
        return obj;
    }
}
