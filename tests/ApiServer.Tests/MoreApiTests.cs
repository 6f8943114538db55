using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class MoreApiTests
{
    private const string Cms = "/api/v1/namespaces/default/configmaps";
    private const string Svcs = "/api/v1/namespaces/default/services";
    private const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    [Fact]
    public async Task List_ResourceVersionMatchExact_ReturnsThePastState()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var a = await http.CreateAsync(Cms, ConfigMap("a"));
        await http.CreateAsync(Cms, ConfigMap("b"));
        await http.PatchAsync(Cms + "/a", J("""{"data":{"k":"later"}}"""));
        var r = await http.GetAsync($"{Cms}?resourceVersion={Rv(a)}&resourceVersionMatch=Exact");
        Assert.Equal(200, r.Code);
        Assert.Equal(Rv(a).ToString(System.Globalization.CultureInfo.InvariantCulture), r.Rv);
        var items = r.Body["items"]!.AsArray();
        Assert.Single(items);
        Assert.Equal("v", items[0]!["data"]!["k"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_ResourceVersionAhead_ReturnsTimeoutTooLarge()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).GetAsync($"{Cms}?resourceVersion={api.Server.CurrentResourceVersion + 100}");
        Assert.Equal(504, r.Code);
        Assert.Equal("Timeout", r.Reason);
        Assert.StartsWith("Too large resource version", r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_MissingService_CreatesIt()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).PutAsync(Svcs + "/s", Service("s"));
        Assert.Equal(201, r.Code);
        Assert.NotNull(r.Body["spec"]!["clusterIP"]);
    }

    [Fact]
    public async Task Create_WithResourceVersion_FailsLikeEtcdStore()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var body = ConfigMap("a", meta: m => m["resourceVersion"] = "12");
        var r = await new KubeHttp(api.Http).PostAsync(Cms, body);
        Assert.Equal(500, r.Code);
        Assert.Contains("resourceVersion should not be set on objects to be created", r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteCollection_LabelSelector_DeletesOnlyMatching()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a", new() { ["x"] = "1" }));
        await http.CreateAsync(Cms, ConfigMap("b", new() { ["x"] = "1" }));
        await http.CreateAsync(Cms, ConfigMap("c"));
        var r = await http.DeleteAsync(Cms + "?labelSelector=x%3D1");
        Assert.Equal(200, r.Code);
        Assert.Equal(2, r.Body["items"]!.AsArray().Count);
        var left = await http.GetAsync(Cms);
        Assert.Equal("c", left.Body["items"]![0]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Single(left.Body["items"]!.AsArray());
    }

    [Fact]
    public async Task Watch_SingleObjectPath_SeesOnlyThatObject()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        await http.CreateAsync(Cms, ConfigMap("b"));
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "/b?watch=true");
        Assert.Equal("b", (await watch.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
        await http.PatchAsync(Cms + "/a", J("""{"data":{"k":"x"}}"""));
        await http.PatchAsync(Cms + "/b", J("""{"data":{"k":"y"}}"""));
        Assert.Equal("b", (await watch.ExpectAsync("MODIFIED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_ServiceUnknownField_StrictRejectsAndWarnDrops()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var body = Service("s", spec: s => s["bogus"] = true);
        var strict = await http.PostAsync(Svcs, body.DeepClone(), "?fieldValidation=Strict");
        Assert.Equal(400, strict.Code);
        Assert.Equal("strict decoding error: unknown field \"spec.bogus\"", strict.Body["message"]!.GetValue<string>());
        var lax = await http.PostAsync(Svcs, body);
        Assert.Equal(201, lax.Code);
        Assert.Null(lax.Body["spec"]!["bogus"]);
        Assert.Equal("299 - \"unknown field \\\"spec.bogus\\\"\"", lax.Message.Headers.GetValues("Warning").Single());
    }

    [Fact]
    public async Task Create_DryRun_DoesNotPersist()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var before = api.Server.CurrentResourceVersion;
        var r = await http.PostAsync(Svcs, Service("s", spec: s => s["clusterIP"] = "100.64.3.3"), "?dryRun=All");
        Assert.Equal(201, r.Code);
        Assert.Equal(before, api.Server.CurrentResourceVersion);
        Assert.Equal(404, (await http.GetAsync(Svcs + "/s")).Code);
        // The dry run released the address it reserved.
        await http.CreateAsync(Svcs, Service("t", spec: s => s["clusterIP"] = "100.64.3.3"));
    }

    [Fact]
    public async Task Create_YamlBody_IsAccepted()
    {
        await using var api = await ApiServerFixture.StartAsync();
        using var content = new StringContent("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml-cm\ndata:\n  enabled: \"true\"\n", Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/yaml");
        var response = await api.Http.PostAsync(Cms, content);
        Assert.Equal(201, (int)response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("true", body["data"]!["enabled"]!.GetValue<string>());
    }

    [Fact]
    public async Task Discovery_LegacyAndAggregated_ListCoreAndCrdResources()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.WidgetCrd());

        var core = await http.GetAsync("/api/v1");
        var names = core.Body["resources"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("services", names);
        Assert.Contains("services/status", names);
        Assert.Contains("namespaces", names);
        var svc = core.Body["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "services")!;
        Assert.Equal(["svc"], svc["shortNames"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Contains("watch", svc["verbs"]!.AsArray().Select(s => s!.GetValue<string>()));

        var group = await http.GetAsync("/apis/example.com");
        Assert.Equal("v1", group.Body["preferredVersion"]!["version"]!.GetValue<string>());

        var aggregated = await http.GetAsync("/apis", accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
        var contentType = aggregated.Message.Content.Headers.ContentType!;
        Assert.Equal("application/json", contentType.MediaType);
        Assert.Contains(contentType.Parameters, p => p.Name == "as" && p.Value == "APIGroupDiscoveryList");
        var widgets = aggregated.Body["items"]!.AsArray().Single(i => i!["metadata"]!["name"]!.GetValue<string>() == "example.com")!;
        var v1 = widgets["versions"]![0]!;
        Assert.Equal("v1", v1["version"]!.GetValue<string>());
        var resource = v1["resources"]![0]!;
        Assert.Equal("widgets", resource["resource"]!.GetValue<string>());
        Assert.Equal("Namespaced", resource["scope"]!.GetValue<string>());
        Assert.Equal(["all"], resource["categories"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("status", resource["subresources"]![0]!["subresource"]!.GetValue<string>());

        var version = await http.GetAsync("/version");
        Assert.Equal("1", version.Body["major"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenApiV3_AdvertisesFieldValidationOnPatch()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var index = await http.GetAsync("/openapi/v3");
        var url = index.Body["paths"]!["api/v1"]!["serverRelativeURL"]!.GetValue<string>();
        var doc = await http.GetAsync(url);
        var patch = doc.Body["paths"]!["/api/v1/namespaces/{namespace}/services/{name}"]!["patch"]!;
        Assert.Equal("Service", patch["x-kubernetes-group-version-kind"]!["kind"]!.GetValue<string>());
        Assert.Contains(patch["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "fieldValidation" && p["in"]!.GetValue<string>() == "query");
        Assert.Equal(404, (await http.GetAsync("/openapi/v2")).Code);
    }

    [Fact]
    public async Task Table_CustomResource_UsesPrinterColumns()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdFixtures.PoolCrd());
        await http.CreateAsync(CrdFixtures.PoolsPath, J("""{"apiVersion":"net.example.com/v1beta1","kind":"Pool","metadata":{"name":"p"},"spec":{"addresses":["10.0.0.0/24"],"autoAssign":false}}"""));
        await http.PatchAsync(CrdFixtures.PoolsPath + "/p/status", J("""{"status":{"assignedIPv4":7}}"""));
        var table = await http.GetAsync(CrdFixtures.PoolsPath, accept: TableAccept);
        Assert.Equal("Table", table.Body["kind"]!.GetValue<string>());
        Assert.Equal(["Name", "Addresses", "Auto", "Assigned", "Age"], table.Body["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        var cells = table.Body["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("p", cells[0]!.GetValue<string>());
        Assert.Equal("[\"10.0.0.0/24\"]", cells[1]!.GetValue<string>());
        Assert.False(cells[2]!.GetValue<bool>());
        Assert.Equal("7", cells[3]!.GetValue<string>());
        Assert.Matches(@"^\d+s$", cells[4]!.GetValue<string>());
        Assert.Equal("PartialObjectMetadata", table.Body["rows"]![0]!["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Table_Service_HasKubectlColumns()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s", type: "LoadBalancer", spec: s => s["selector"] = new JsonObject { ["app"] = "x" }));
        await http.PatchAsync(Svcs + "/s/status", J("""{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.1"},{"ip":"2001:db8::1"}]}}}"""));
        var table = await http.GetAsync(Svcs + "/s", accept: TableAccept);
        Assert.Equal(["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"],
            table.Body["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        var cells = table.Body["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("LoadBalancer", cells[1]!.GetValue<string>());
        Assert.Equal("203.0.113.1,2001:db8::1", cells[3]!.GetValue<string>());
        Assert.Matches(@"^80:\d+/TCP$", cells[4]!.GetValue<string>());
        Assert.Equal("app=x", cells[6]!.GetValue<string>());
    }
}
