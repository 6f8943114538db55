using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class CustomResourceTests
{
    private const string Crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

    private static async Task<KubeHttp> WithPoolsAsync(ApiServerFixture api)
    {
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Crds, CrdFixtures.PoolCrd());
        return http;
    }

    private static JsonObject Pool(string spec) =>
        J($$"""{"apiVersion":"net.example.com/v1beta1","kind":"Pool","metadata":{"name":"p"},"spec":{{spec}}}""");

    [Fact]
    public async Task CreateCrd_KindIsServableImmediatelyAndInDiscovery()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        var crd = await http.GetAsync(Crds + "/pools.net.example.com");
        var conditions = crd.Body["status"]!["conditions"]!.AsArray();
        Assert.Contains(conditions, c => c!["type"]!.GetValue<string>() == "Established" && c["status"]!.GetValue<string>() == "True");

        var list = await http.GetAsync(CrdFixtures.PoolsPath);
        Assert.Equal(200, list.Code);
        Assert.Equal("PoolList", list.Body["kind"]!.GetValue<string>());

        var resources = await http.GetAsync("/apis/net.example.com/v1beta1");
        var pools = resources.Body["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "pools")!;
        Assert.False(pools["namespaced"]!.GetValue<bool>());
        Assert.Equal("pl", pools["shortNames"]![0]!.GetValue<string>());
        Assert.Contains(resources.Body["resources"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "pools/status");
        var groups = await http.GetAsync("/apis");
        Assert.Contains(groups.Body["groups"]!.AsArray(), g => g!["name"]!.GetValue<string>() == "net.example.com");
    }

    [Fact]
    public async Task Create_DefaultsApplied_IncludingNestedObjectDefault()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        var created = await http.CreateAsync(CrdFixtures.PoolsPath, Pool("""{"addresses":["10.1.0.0/24"]}"""));
        Assert.True(created["spec"]!["autoAssign"]!.GetValue<bool>());
        Assert.Equal("layer2", created["spec"]!["mode"]!.GetValue<string>());
        Assert.Equal(10, created["spec"]!["limits"]!["max"]!.GetValue<int>());
    }

    [Fact]
    public async Task Create_NullForNonNullableField_IsPrunedThenDefaulted()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        var created = await http.CreateAsync(CrdFixtures.PoolsPath, Pool("""{"addresses":["10.1.0.0/24"],"mode":null,"name":null,"note":null}"""));
        Assert.Equal("layer2", created["spec"]!["mode"]!.GetValue<string>());
        Assert.False(created["spec"]!.AsObject().ContainsKey("name"));
        Assert.True(created["spec"]!.AsObject().ContainsKey("note"));
    }

    [Fact]
    public async Task Create_UnknownFields_ArePrunedOrRejectedPerFieldValidation()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        var body = Pool("""{"addresses":["10.1.0.0/24"],"bogus":1,"options":{"free":{"x":1}}}""");
        body["extraTop"] = "x";

        var strict = await http.PostAsync(CrdFixtures.PoolsPath, body.DeepClone(), "?fieldValidation=Strict");
        Assert.Equal(400, strict.Code);
        Assert.Equal("BadRequest", strict.Reason);
        Assert.Contains("strict decoding error: unknown field \"spec.bogus\"", strict.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var warn = await http.PostAsync(CrdFixtures.PoolsPath, body, "?fieldValidation=Warn");
        Assert.Equal(201, warn.Code);
        Assert.Null(warn.Body["spec"]!["bogus"]);
        Assert.Null(warn.Body["extraTop"]);
        Assert.Equal(1, warn.Body["spec"]!["options"]!["free"]!["x"]!.GetValue<int>());
        Assert.Contains(warn.Message.Headers.GetValues("Warning"), w => w.Contains("unknown field \\\"spec.bogus\\\"", StringComparison.Ordinal));
    }

    public static TheoryData<string, string, string, string> InvalidSpecs => new()
    {
        { """{}""", "spec.addresses", "FieldValueRequired", "Required value" },
        { """{"addresses":[]}""", "spec.addresses", "FieldValueInvalid", "spec.addresses in body should have at least 1 items" },
        { """{"addresses":["a/1","b/1","c/1","d/1"]}""", "spec.addresses", "FieldValueTooMany", "must have at most 3 items" },
        { """{"addresses":["x"]}""", "spec.addresses[0]", "FieldValueInvalid", "Invalid value: \"x\": spec.addresses[0] in body should match '^[0-9.]+/[0-9]+$'" },
        { """{"addresses":["1.2.3.0/24"],"autoAssign":"yes"}""", "spec.autoAssign", "FieldValueTypeInvalid", "spec.autoAssign in body must be of type boolean: \"string\"" },
        { """{"addresses":["1.2.3.0/24"],"mode":"ospf"}""", "spec.mode", "FieldValueNotSupported", "Unsupported value: \"ospf\": supported values: \"layer2\", \"bgp\"" },
        { """{"addresses":["1.2.3.0/24"],"priority":101}""", "spec.priority", "FieldValueInvalid", "spec.priority in body should be less than or equal to 100" },
        { """{"addresses":["1.2.3.0/24"],"priority":-1}""", "spec.priority", "FieldValueInvalid", "spec.priority in body should be greater than or equal to 0" },
        { """{"addresses":["1.2.3.0/24"],"priority":3000000000}""", "spec.priority", "FieldValueInvalid", "spec.priority in body should be less than or equal to 100" },
        { """{"addresses":["1.2.3.0/24"],"priority":1.5}""", "spec.priority", "FieldValueTypeInvalid", "must be of type integer" },
        { """{"addresses":["1.2.3.0/24"],"weight":0}""", "spec.weight", "FieldValueInvalid", "spec.weight in body should be greater than 0" },
        { """{"addresses":["1.2.3.0/24"],"name":"a"}""", "spec.name", "FieldValueInvalid", "spec.name in body should be at least 2 chars long" },
        { """{"addresses":["1.2.3.0/24"],"name":"abcdef"}""", "spec.name", "FieldValueTooLong", "Too long" },
        { """{"addresses":["1.2.3.0/24"],"tags":["a","a"]}""", "spec.tags[1]", "FieldValueDuplicate", "Duplicate value: \"a\"" },
        { """{"addresses":["1.2.3.0/24"],"port":true}""", "spec.port", "FieldValueTypeInvalid", "integer-or-string" },
        { """{"addresses":["1.2.3.0/24"],"nodeSelector":{"a":1}}""", "spec.nodeSelector.a", "FieldValueTypeInvalid", "must be of type string" },
        { """{"addresses":["1.2.3.0/24"],"tags":[null]}""", "spec.tags[0]", "FieldValueTypeInvalid", "spec.tags[0] in body must be of type string: \"null\"" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public async Task Create_SchemaViolation_ReturnsInvalidWithFieldPath(string spec, string field, string reason, string messagePart)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        var r = await http.PostAsync(CrdFixtures.PoolsPath, Pool(spec));
        Assert.Equal(422, r.Code);
        Assert.Equal("Invalid", r.Reason);
        var causes = r.Body["details"]!["causes"]!.AsArray();
        var cause = causes.FirstOrDefault(c => c!["field"]!.GetValue<string>() == field && c["message"]!.GetValue<string>().Contains(messagePart, StringComparison.Ordinal));
        Assert.True(cause is not null, r.Body.ToJsonString());
        Assert.Equal(reason, cause!["reason"]!.GetValue<string>());
        Assert.Contains(messagePart, cause["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("Pool.net.example.com \"p\" is invalid: ", r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("net.example.com", r.Body["details"]!["group"]!.GetValue<string>());
        Assert.Equal("Pool", r.Body["details"]!["kind"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"addresses":["1.2.3.0/24"],"port":8080}""")]
    [InlineData("""{"addresses":["1.2.3.0/24"],"port":"http"}""")]
    [InlineData("""{"addresses":["1.2.3.0/24"],"note":null,"weight":0.5,"priority":0}""")]
    public async Task Create_ValidEdgeCases_AreAccepted(string spec)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        var r = await http.PostAsync(CrdFixtures.PoolsPath, Pool(spec));
        Assert.True(r.Code == 201, r.Body.ToJsonString());
    }

    [Fact]
    public async Task Update_WithoutResourceVersion_IsInvalidForCustomResources()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        await http.CreateAsync(CrdFixtures.PoolsPath, Pool("""{"addresses":["1.2.3.0/24"]}"""));
        var r = await http.PutAsync(CrdFixtures.PoolsPath + "/p", Pool("""{"addresses":["1.2.4.0/24"]}"""));
        Assert.Equal(422, r.Code);
        Assert.Equal("metadata.resourceVersion", r.Body["details"]!["causes"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task StatusUpdate_ValidatedAgainstSchema()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        await http.CreateAsync(CrdFixtures.PoolsPath, Pool("""{"addresses":["1.2.3.0/24"]}"""));
        var bad = await http.PatchAsync(CrdFixtures.PoolsPath + "/p/status", J("""{"status":{"assignedIPv4":"many"}}"""));
        Assert.Equal(422, bad.Code);
        Assert.Equal("status.assignedIPv4", bad.Body["details"]!["causes"]![0]!["field"]!.GetValue<string>());
        var good = await http.PatchAsync(CrdFixtures.PoolsPath + "/p/status", J("""{"status":{"assignedIPv4":3}}"""));
        Assert.Equal(3, good.Body["status"]!["assignedIPv4"]!.GetValue<int>());
    }

    [Fact]
    public async Task StrategicMergePatch_OnCustomResource_IsUnsupportedMediaType()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = await WithPoolsAsync(api);
        await http.CreateAsync(CrdFixtures.PoolsPath, Pool("""{"addresses":["1.2.3.0/24"]}"""));
        var r = await http.PatchAsync(CrdFixtures.PoolsPath + "/p", J("""{"spec":{"autoAssign":false}}"""), "application/strategic-merge-patch+json");
        Assert.Equal(415, r.Code);
    }

    [Fact]
    public async Task OtherServedVersion_ReadsAndWritesSameObjects()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Crds, CrdFixtures.WidgetCrd());
        await http.CreateAsync(CrdFixtures.WidgetsPath, J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1}}"""));
        var viaBeta = await http.GetAsync("/apis/example.com/v1beta1/namespaces/default/widgets/w");
        Assert.Equal("example.com/v1beta1", viaBeta.Body["apiVersion"]!.GetValue<string>());
        Assert.Equal(1, viaBeta.Body["spec"]!["size"]!.GetValue<int>());
        var list = await http.GetAsync("/apis/example.com/v1beta1/namespaces/default/widgets");
        Assert.Equal("example.com/v1beta1", list.Body["items"]![0]!["apiVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeleteCrd_RemovesItsObjectsAndKind()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Crds, CrdFixtures.WidgetCrd());
        await http.CreateAsync(CrdFixtures.WidgetsPath, J("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1}}"""));
        Assert.Equal(200, (await http.DeleteAsync(Crds + "/widgets.example.com")).Code);
        await api.Server.WhenControllersIdleAsync();
        Assert.Equal(404, (await http.GetAsync(CrdFixtures.WidgetsPath)).Code);

        await http.CreateAsync(Crds, CrdFixtures.WidgetCrd());
        var list = await http.GetAsync(CrdFixtures.WidgetsPath);
        Assert.Empty(list.Body["items"]!.AsArray());
    }

    public static TheoryData<string, string> InvalidCrds => new()
    {
        { """{"metadata":{"name":"wrong.example.com"}}""", "metadata.name" },
        { """{"spec":{"scope":"Galaxy"}}""", "spec.scope" },
        { """{"spec":{"versions":[{"name":"v1","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object"}}}]}}""", "spec.versions" },
        { """{"spec":{"versions":[{"name":"v1","served":true,"storage":true}]}}""", "spec.versions[0].schema.openAPIV3Schema" },
        { """{"spec":{"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"properties":{}}}}}}]}}""", "spec.versions[0].schema.openAPIV3Schema.properties[spec].type" },
    };

    [Theory]
    [MemberData(nameof(InvalidCrds))]
    public async Task CreateCrd_Invalid_ReturnsInvalidNamingField(string mergePatch, string field)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var crd = CrdFixtures.WidgetCrd();
        foreach (var (k, v) in J(mergePatch))
        {
            foreach (var (k2, v2) in v!.AsObject())
            {
                crd[k]![k2] = v2?.DeepClone();
            }
        }

        var r = await http.PostAsync(Crds, crd);
        Assert.Equal(422, r.Code);
        Assert.Contains(r.Body["details"]!["causes"]!.AsArray(), c => c!["field"]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task CrdDirectory_LoadedAtStart()
    {
        var dir = Directory.CreateTempSubdirectory("barelb-crds-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "pools.yaml"), """
                # two documents, one of them not a CRD
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: ignored}
                ---
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: gadgets.example.com
                spec:
                  group: example.com
                  scope: Cluster
                  names: {kind: Gadget, plural: gadgets}
                  versions:
                  - name: v1
                    served: true
                    storage: true
                    schema:
                      openAPIV3Schema:
                        type: object
                        properties:
                          spec:
                            type: object
                            properties:
                              enabled: {type: boolean, default: yes}
                """);
            await using var api = await ApiServerFixture.StartAsync(o => o.CrdDirectory = dir.FullName);
            var http = new KubeHttp(api.Http);
            var created = await http.CreateAsync("/apis/example.com/v1/gadgets", J("""{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"},"spec":{}}"""));
            Assert.True(created["spec"]!["enabled"]!.GetValue<bool>());
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public async Task CrdDirectory_ProjectCrds_LoadWhenPresent()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "BareLb.sln")))
        {
            root = Path.GetDirectoryName(root);
        }

        Assert.NotNull(root);
        var crds = Path.Combine(root!, "crds");
        var files = Directory.Exists(crds) ? Directory.GetFiles(crds).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).ToArray() : [];
        var expected = files.Sum(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), @"(?m)^kind:\s*CustomResourceDefinition\s*$").Count);
        await using var api = await ApiServerFixture.StartAsync(o => o.CrdDirectory = Directory.Exists(crds) ? crds : null);
        var list = await new KubeHttp(api.Http).GetAsync(Crds);
        Assert.Equal(expected, list.Body["items"]!.AsArray().Count);
    }
}
