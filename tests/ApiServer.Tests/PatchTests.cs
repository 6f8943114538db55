using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class PatchTests
{
    private const string Cms = "/api/v1/namespaces/default/configmaps";
    private const string Svcs = "/api/v1/namespaces/default/services";

    [Fact]
    public async Task MergePatch_MergesMapsAndNullDeletes()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, J("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"1","y":"2"}},"data":{"k":"v","gone":"g"}}"""));
        var r = await http.PatchAsync(Cms + "/a", J("""{"metadata":{"labels":{"y":null,"z":"3"}},"data":{"gone":null,"new":"n"}}"""));
        Assert.Equal(200, r.Code);
        Assert.True(JsonNode.DeepEquals(J("""{"x":"1","z":"3"}"""), r.Body["metadata"]!["labels"]));
        Assert.True(JsonNode.DeepEquals(J("""{"k":"v","new":"n"}"""), r.Body["data"]));
    }

    [Fact]
    public async Task MergePatch_ListsAreReplaced()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s", spec: s => s["ports"] = new JsonArray(
            new JsonObject { ["name"] = "a", ["port"] = 80 }, new JsonObject { ["name"] = "b", ["port"] = 81 })));
        var r = await http.PatchAsync(Svcs + "/s", J("""{"spec":{"ports":[{"name":"c","port":82}]}}"""));
        Assert.Equal(200, r.Code);
        Assert.Single(r.Body["spec"]!["ports"]!.AsArray());
    }

    [Fact]
    public async Task JsonPatch_AppliesOperationsAndTestFailureIsRejected()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        var ops = JsonNode.Parse("""
            [{"op":"test","path":"/data/k","value":"v"},
             {"op":"add","path":"/data/n","value":"1"},
             {"op":"replace","path":"/data/k","value":"w"},
             {"op":"add","path":"/metadata/labels","value":{"x.io/y":"z"}},
             {"op":"move","from":"/data/n","path":"/data/m"}]
            """)!;
        var r = await http.PatchAsync(Cms + "/a", ops, "application/json-patch+json");
        Assert.Equal(200, r.Code);
        Assert.True(JsonNode.DeepEquals(J("""{"k":"w","m":"1"}"""), r.Body["data"]), r.Body.ToJsonString());

        var failing = JsonNode.Parse("""[{"op":"test","path":"/data/k","value":"nope"}]""")!;
        Assert.Equal(422, (await http.PatchAsync(Cms + "/a", failing, "application/json-patch+json")).Code);
        var missing = JsonNode.Parse("""[{"op":"remove","path":"/data/absent"}]""")!;
        Assert.Equal(422, (await http.PatchAsync(Cms + "/a", missing, "application/json-patch+json")).Code);
    }

    [Fact]
    public async Task StrategicMergePatch_ServicePorts_MergeByPortKey()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s", type: "NodePort", spec: s => s["ports"] = new JsonArray(
            new JsonObject { ["name"] = "a", ["port"] = 80 }, new JsonObject { ["name"] = "b", ["port"] = 81 })));
        var before = await http.GetAsync(Svcs + "/s");
        var nodePortA = before.Body["spec"]!["ports"]![0]!["nodePort"]!.GetValue<int>();

        var r = await http.PatchAsync(Svcs + "/s", J("""
            {"spec":{"$setElementOrder/ports":[{"port":82},{"port":80}],
                     "ports":[{"name":"c","port":82},{"$patch":"delete","port":81},{"port":80,"targetPort":8080}]}}
            """), "application/strategic-merge-patch+json");
        Assert.Equal(200, r.Code);
        var ports = r.Body["spec"]!["ports"]!.AsArray();
        Assert.Equal([82, 80], ports.Select(p => p!["port"]!.GetValue<int>()));
        Assert.Equal(8080, ports[1]!["targetPort"]!.GetValue<int>());
        Assert.Equal("a", ports[1]!["name"]!.GetValue<string>());
        Assert.Equal(nodePortA, ports[1]!["nodePort"]!.GetValue<int>());
        Assert.InRange(ports[0]!["nodePort"]!.GetValue<int>(), 30000, 32767);
    }

    [Fact]
    public async Task StrategicMergePatch_FinalizersMergeAsSetAndRetainKeys()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a", meta: m => m["finalizers"] = new JsonArray("x.io/a")));
        var r = await http.PatchAsync(Cms + "/a", J("""{"metadata":{"finalizers":["x.io/b"]},"data":{"$retainKeys":["n"],"n":"1"}}"""),
            "application/strategic-merge-patch+json");
        Assert.Equal(200, r.Code);
        Assert.Equal(["x.io/a", "x.io/b"], r.Body["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(J("""{"n":"1"}"""), r.Body["data"]));
    }

    [Fact]
    public async Task Patch_StaleResourceVersionInBody_ReturnsConflict()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Cms, ConfigMap("a"));
        await http.PatchAsync(Cms + "/a", J("""{"data":{"k":"1"}}"""));
        var stale = J($$$"""{"metadata":{"resourceVersion":"{{{Rv(created)}}}"},"data":{"k":"2"}}""");
        var r = await http.PatchAsync(Cms + "/a", stale);
        Assert.Equal(409, r.Code);
        Assert.Equal("Conflict", r.Reason);
    }

    [Fact]
    public async Task Patch_Missing_ReturnsNotFound()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).PatchAsync(Cms + "/nope", J("""{"data":{}}"""));
        Assert.Equal(404, r.Code);
        Assert.Equal("NotFound", r.Reason);
    }

    [Fact]
    public async Task Patch_UnknownContentType_ReturnsUnsupportedMediaType()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        var r = await http.PatchAsync(Cms + "/a", J("""{"data":{}}"""), "text/plain");
        Assert.Equal(415, r.Code);
    }
}
