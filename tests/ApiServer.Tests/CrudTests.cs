using System.Net;
using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class CrudTests
{
    private const string Cms = "/api/v1/namespaces/default/configmaps";
    private const string Svcs = "/api/v1/namespaces/default/services";

    [Fact]
    public async Task Create_NewObject_ReturnsCreatedWithSystemMetadata()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Cms, ConfigMap("a"));
        var meta = created["metadata"]!;
        Assert.Equal("a", meta["name"]!.GetValue<string>());
        Assert.Equal("default", meta["namespace"]!.GetValue<string>());
        Assert.True(Guid.TryParse(meta["uid"]!.GetValue<string>(), out _));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", meta["creationTimestamp"]!.GetValue<string>());
        Assert.Equal(api.Server.CurrentResourceVersion, Rv(created));
        Assert.Equal("ConfigMap", created["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_ExistingAndMissing_ReturnsObjectOrNotFoundStatus()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Cms, ConfigMap("a"));
        var got = await http.GetAsync(Cms + "/a");
        Assert.Equal(HttpStatusCode.OK, got.Status);
        Assert.True(JsonNode.DeepEquals(created, got.Body));

        var missing = await http.GetAsync(Svcs + "/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.True(JsonNode.DeepEquals(J("""
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \"nope\" not found",
             "reason":"NotFound","details":{"name":"nope","kind":"services"},"code":404}
            """), missing.Body), missing.Body.ToJsonString());
    }

    [Fact]
    public async Task Get_UnknownResourcePath_ReturnsNotFoundStatus()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).GetAsync("/apis/nothing.example.com/v1/things");
        Assert.Equal(404, r.Code);
        Assert.Equal("NotFound", r.Reason);
        Assert.Equal("Status", r.Body["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task ResourceVersion_EveryWrite_IsStrictlyIncreasingAndGlobal()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var versions = new List<long>
        {
            Rv(await http.CreateAsync(Cms, ConfigMap("a"))),
            Rv(await http.CreateAsync(Svcs, Service("s"))),
            Rv((await http.PatchAsync(Cms + "/a", J("""{"data":{"k":"v2"}}"""))).Body),
            Rv(await http.CreateAsync(Cms, ConfigMap("b"))),
        };
        for (var i = 1; i < versions.Count; i++)
        {
            Assert.True(versions[i] > versions[i - 1], string.Join(",", versions));
        }

        Assert.Equal(200, (await http.DeleteAsync(Cms + "/b")).Code);
        Assert.True(api.Server.CurrentResourceVersion > versions[^1]);
    }

    [Fact]
    public async Task Create_ExistingName_ReturnsAlreadyExists()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        var r = await http.PostAsync(Cms, ConfigMap("a"));
        Assert.Equal(409, r.Code);
        Assert.Equal("AlreadyExists", r.Reason);
        Assert.Equal("configmaps \"a\" already exists", r.Body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_GenerateName_AppendsFiveCharacterSuffix()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var body = ConfigMap("x");
        body["metadata"]!.AsObject().Remove("name");
        body["metadata"]!["generateName"] = "gen-";
        var created = await http.CreateAsync(Cms, body);
        Assert.Matches("^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$", created["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_NoNameNoGenerateName_ReturnsInvalid()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var body = ConfigMap("x");
        body["metadata"]!.AsObject().Remove("name");
        var r = await new KubeHttp(api.Http).PostAsync(Cms, body);
        Assert.Equal(422, r.Code);
        Assert.Equal("metadata.name", r.Body["details"]!["causes"]![0]!["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/configmaps", "Bad_Name", "metadata.name")]
    [InlineData("/api/v1/namespaces/default/services", "1abc", "metadata.name")]
    [InlineData("/api/v1/namespaces", "a.b", "metadata.name")]
    public async Task Create_InvalidName_ReturnsInvalidNamingField(string collection, string name, string field)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var kind = collection.EndsWith("services", StringComparison.Ordinal) ? "Service" : collection.EndsWith("namespaces", StringComparison.Ordinal) ? "Namespace" : "ConfigMap";
        var body = kind == "Service" ? Service(name) : new JsonObject { ["apiVersion"] = "v1", ["kind"] = kind, ["metadata"] = new JsonObject { ["name"] = name } };
        var r = await new KubeHttp(api.Http).PostAsync(collection, body);
        Assert.Equal(422, r.Code);
        Assert.Equal("Invalid", r.Reason);
        Assert.Equal(field, r.Body["details"]!["causes"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_MissingNamespace_ReturnsNotFoundForNamespace()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).PostAsync("/api/v1/namespaces/ghost/configmaps", ConfigMap("a"));
        Assert.Equal(404, r.Code);
        Assert.Equal("namespaces \"ghost\" not found", r.Body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_NamespaceMismatch_ReturnsBadRequest()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var body = ConfigMap("a");
        body["metadata"]!["namespace"] = "kube-system";
        var r = await new KubeHttp(api.Http).PostAsync(Cms, body);
        Assert.Equal(400, r.Code);
        Assert.Equal("BadRequest", r.Reason);
    }

    [Fact]
    public async Task Update_StaleResourceVersion_ReturnsConflictWithRealMessage()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("x"));
        var first = created.DeepClone().AsObject();
        first["metadata"]!["labels"] = new JsonObject { ["a"] = "1" };
        Assert.Equal(200, (await http.PutAsync(Svcs + "/x", first)).Code);

        var stale = created.DeepClone().AsObject();
        stale["metadata"]!["labels"] = new JsonObject { ["a"] = "2" };
        var r = await http.PutAsync(Svcs + "/x", stale);
        Assert.Equal(409, r.Code);
        Assert.Equal("Conflict", r.Reason);
        Assert.Equal(
            "Operation cannot be fulfilled on services \"x\": the object has been modified; please apply your changes to the latest version and try again",
            r.Body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_WithoutResourceVersion_IsUnconditionalForBuiltIns()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Cms, ConfigMap("a"));
        var body = ConfigMap("a");
        body["data"] = new JsonObject { ["k"] = "changed" };
        var r = await http.PutAsync(Cms + "/a", body);
        Assert.Equal(200, r.Code);
        Assert.Equal("changed", r.Body["data"]!["k"]!.GetValue<string>());
        Assert.Equal(created["metadata"]!["uid"]!.GetValue<string>(), r.Body["metadata"]!["uid"]!.GetValue<string>());
        Assert.Equal(created["metadata"]!["creationTimestamp"]!.GetValue<string>(), r.Body["metadata"]!["creationTimestamp"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_NoChange_KeepsResourceVersion()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Cms, ConfigMap("a"));
        var r = await http.PutAsync(Cms + "/a", created);
        Assert.Equal(200, r.Code);
        Assert.Equal(Rv(created), Rv(r.Body));
    }

    [Fact]
    public async Task Update_Missing_ReturnsNotFound()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).PutAsync(Cms + "/a", ConfigMap("a"));
        Assert.Equal(404, r.Code);
    }

    [Fact]
    public async Task Update_LeaseMissing_CreatesIt()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var lease = J("""{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l"},"spec":{"holderIdentity":"a"}}""");
        var r = await new KubeHttp(api.Http).PutAsync("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l", lease);
        Assert.Equal(201, r.Code);
    }

    [Fact]
    public async Task Update_NameMismatch_ReturnsBadRequest()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        var r = await http.PutAsync(Cms + "/a", ConfigMap("b"));
        Assert.Equal(400, r.Code);
    }

    [Fact]
    public async Task Delete_Existing_RemovesItAndReturnsSuccessStatus()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Cms, ConfigMap("a"));
        var r = await http.DeleteAsync(Cms + "/a");
        Assert.Equal(200, r.Code);
        Assert.Equal("Success", r.Body["status"]!.GetValue<string>());
        Assert.Equal(created["metadata"]!["uid"]!.GetValue<string>(), r.Body["details"]!["uid"]!.GetValue<string>());
        Assert.Equal(404, (await http.GetAsync(Cms + "/a")).Code);
        Assert.Equal(404, (await http.DeleteAsync(Cms + "/a")).Code);
    }

    [Fact]
    public async Task Delete_Service_ReturnsTheDeletedObject()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("x"));
        var r = await http.DeleteAsync(Svcs + "/x");
        Assert.Equal(200, r.Code);
        Assert.Equal("Service", r.Body["kind"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("uid", "00000000-0000-0000-0000-000000000000", "Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000")]
    [InlineData("resourceVersion", "1", "Precondition failed: ResourceVersion in precondition: 1")]
    public async Task Delete_PreconditionMismatch_ReturnsConflict(string field, string value, string messagePart)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        var options = new JsonObject
        {
            ["kind"] = "DeleteOptions", ["apiVersion"] = "v1", ["preconditions"] = new JsonObject { [field] = value },
        };
        var r = await http.DeleteAsync(Cms + "/a", options);
        Assert.Equal(409, r.Code);
        Assert.Equal("Conflict", r.Reason);
        Assert.Contains(messagePart, r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(200, (await http.GetAsync(Cms + "/a")).Code);
    }

    [Fact]
    public async Task Delete_MatchingPreconditions_Deletes()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Cms, ConfigMap("a"));
        var options = new JsonObject
        {
            ["preconditions"] = new JsonObject
            {
                ["uid"] = created["metadata"]!["uid"]!.GetValue<string>(),
                ["resourceVersion"] = created["metadata"]!["resourceVersion"]!.GetValue<string>(),
            },
        };
        Assert.Equal(200, (await http.DeleteAsync(Cms + "/a", options)).Code);
        Assert.Equal(404, (await http.GetAsync(Cms + "/a")).Code);
    }

    [Fact]
    public async Task Delete_WithFinalizers_SetsDeletionTimestampUntilLastFinalizerRemoved()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a", meta: m => m["finalizers"] = new JsonArray("example.com/a", "example.com/b")));

        var deleting = await http.DeleteAsync(Cms + "/a");
        Assert.Equal(200, deleting.Code);
        Assert.NotNull(deleting.Body["metadata"]!["deletionTimestamp"]);
        Assert.Equal(0, deleting.Body["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<int>());

        var still = await http.GetAsync(Cms + "/a");
        Assert.Equal(200, still.Code);

        // Adding a finalizer to an object being deleted is forbidden.
        var add = await http.PatchAsync(Cms + "/a", J("""{"metadata":{"finalizers":["example.com/a","example.com/b","example.com/c"]}}"""));
        Assert.Equal(422, add.Code);

        Assert.Equal(200, (await http.PatchAsync(Cms + "/a", J("""{"metadata":{"finalizers":["example.com/b"]}}"""))).Code);
        Assert.Equal(200, (await http.GetAsync(Cms + "/a")).Code);
        var last = await http.PatchAsync(Cms + "/a", J("""{"metadata":{"finalizers":null}}"""));
        Assert.Equal(200, last.Code);
        Assert.Equal(404, (await http.GetAsync(Cms + "/a")).Code);
    }

    [Fact]
    public async Task Delete_Namespace_DeletesItsObjects()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/api/v1/namespaces", J("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}"""));
        await http.CreateAsync("/api/v1/namespaces/team/configmaps", ConfigMap("a"));
        await http.CreateAsync("/api/v1/namespaces/team/services", Service("s"));
        await http.CreateAsync(Cms, ConfigMap("keep"));

        var r = await http.DeleteAsync("/api/v1/namespaces/team");
        Assert.Equal(200, r.Code);
        Assert.Equal("Terminating", r.Body["status"]!["phase"]!.GetValue<string>());
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync("/api/v1/namespaces/team")).Code);
        Assert.Equal(404, (await http.GetAsync("/api/v1/namespaces/team/configmaps/a")).Code);
        Assert.Equal(200, (await http.GetAsync(Cms + "/keep")).Code);
        Assert.Equal(404, (await http.PostAsync("/api/v1/namespaces/team/configmaps", ConfigMap("b"))).Code);
    }

    [Fact]
    public async Task Delete_DefaultNamespace_IsForbidden()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).DeleteAsync("/api/v1/namespaces/default");
        Assert.Equal(403, r.Code);
    }

    [Fact]
    public async Task List_DefaultNamespaces_ExistAtStart()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).GetAsync("/api/v1/namespaces");
        var names = r.Body["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["default", "kube-node-lease", "kube-public", "kube-system"], names);
        Assert.Equal("NamespaceList", r.Body["kind"]!.GetValue<string>());
        Assert.Equal(api.Server.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Rv);
        // Built-in list items carry no type meta, like the real server's.
        Assert.Null(r.Body["items"]![0]!["kind"]);
    }

    [Fact]
    public async Task UnsupportedVerb_ReturnsMethodNotAllowed()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).SendAsync(HttpMethod.Post, Cms + "/a", ConfigMap("a"));
        Assert.Equal(405, r.Code);
        Assert.Equal("MethodNotAllowed", r.Reason);
    }
}
