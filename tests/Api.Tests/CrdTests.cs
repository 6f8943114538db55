using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using BareLb.Api.Models;
using BareLb.Api.Tests.Support;
using BareLb.Kubernetes;
using k8s;
using k8s.Models;

namespace BareLb.Api.Tests;

public sealed class CrdTests
{
    // Short names and plurals of built-in kinds (kubectl api-resources on Kubernetes 1.32), which a CRD must not reuse.
    private static readonly HashSet<string> BuiltinNames =
    [
        "cs", "cm", "ep", "ev", "limits", "ns", "no", "pvc", "pv", "po", "podtemplates", "rc", "quota", "secrets", "sa",
        "svc", "mutatingwebhookconfigurations", "validatingwebhookconfigurations", "crd", "crds", "apiservices", "ds",
        "deploy", "rs", "sts", "hpa", "cj", "csr", "leases", "eps", "ev", "ing", "ingclass", "netpol", "pdb", "pc",
        "sc", "va", "csidrivers", "csinodes", "csistoragecapacities", "flowschemas", "prioritylevelconfigurations",
        "runtimeclasses", "clusterroles", "roles", "all",
    ];

    public static TheoryData<string> Kinds => [.. Resources().Select(r => r.Kind)];

    private static IReadOnlyList<(string Kind, string Plural, bool Namespaced, string ApiVersion, Type Model)> Resources() =>
    [
        Describe(BareLbResources.IPAddressPools),
        Describe(BareLbResources.L2Advertisements),
        Describe(BareLbResources.BGPPeers),
        Describe(BareLbResources.BGPAdvertisements),
        Describe(BareLbResources.Communities),
        Describe(BareLbResources.ServiceL2Statuses),
        Describe(BareLbResources.ServiceBGPStatuses),
    ];

    private static (string, string, bool, string, Type) Describe<T>(ResourceType<T> type) where T : class, IKubernetesObject<V1ObjectMeta> =>
        (type.Kind, type.Plural, type.Namespaced, type.ApiVersion, typeof(T));

    private static Dictionary<string, JsonObject> LoadCrds() =>
        Directory.GetFiles(RepositoryPaths.Crds, "*.yaml")
            .SelectMany(YamlDocuments.LoadFile)
            .Select(d => d!.AsObject())
            .ToDictionary(d => (string)d["spec"]!["names"]!["kind"]!);

    private static JsonObject Version(JsonObject crd) => Assert.Single(crd["spec"]!["versions"]!.AsArray())!.AsObject();

    private static JsonObject Schema(JsonObject crd) => Version(crd)["schema"]!["openAPIV3Schema"]!.AsObject();

    [Fact]
    public void Crds_OnePerKindAndNothingElse()
    {
        var files = Directory.GetFiles(RepositoryPaths.Crds, "*.yaml");
        var documents = files.SelectMany(YamlDocuments.LoadFile).ToList();

        Assert.Equal(7, files.Length);
        Assert.All(documents, d => Assert.Equal("apiextensions.k8s.io/v1", (string?)d!["apiVersion"]));
        Assert.All(documents, d => Assert.Equal("CustomResourceDefinition", (string?)d!["kind"]));
        Assert.Equal(Resources().Select(r => r.Kind).Order(), LoadCrds().Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Crd_NamesScopeAndVersion_MatchBareLbResources(string kind)
    {
        var resource = Resources().Single(r => r.Kind == kind);
        var crd = LoadCrds()[kind];
        var spec = crd["spec"]!;
        var names = spec["names"]!;

        Assert.Equal($"{resource.Plural}.{BareLbResources.ApiGroup}", (string?)crd["metadata"]!["name"]);
        Assert.Equal(BareLbResources.ApiGroup, (string?)spec["group"]);
        Assert.Equal(resource.Plural, (string?)names["plural"]);
        Assert.Equal(kind.ToLowerInvariant(), (string?)names["singular"]);
        Assert.Equal(kind + "List", (string?)names["listKind"]);
        Assert.Equal("Namespaced", (string?)spec["scope"]);
        Assert.True(resource.Namespaced);
        Assert.Contains("barelb", names["categories"]!.AsArray().Select(c => (string?)c));
        var shortNames = names["shortNames"]!.AsArray().Select(s => (string)s!).ToList();
        Assert.NotEmpty(shortNames);
        Assert.DoesNotContain(shortNames, BuiltinNames.Contains);

        var version = Version(crd);
        Assert.Equal(BareLbResources.Version, (string?)version["name"]);
        Assert.Equal($"{BareLbResources.ApiGroup}/{(string?)version["name"]}", resource.ApiVersion);
        Assert.True((bool)version["served"]!);
        Assert.True((bool)version["storage"]!);
        Assert.Equal("{}", version["subresources"]!["status"]!.ToJsonString());
        Assert.Null(spec["conversion"]);
    }

    [Fact]
    public void Crds_ShortNames_AreUniqueAcrossKinds()
    {
        var all = LoadCrds().Values.SelectMany(c => c["spec"]!["names"]!["shortNames"]!.AsArray().Select(s => (string)s!)).ToList();

        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Crd_Schema_IsStructuralAndItsDefaultsAreValid(string kind)
    {
        var schema = Schema(LoadCrds()[kind]);

        Assert.Empty(OpenApiSchema.StructuralProblems(schema));
        Assert.NotNull((string?)schema["description"]);
        Assert.Equal("object", (string?)schema["properties"]!["status"]!["type"]);
    }

    [Fact]
    public void StructuralProblems_BrokenSchema_AreFound()
    {
        var broken = JsonNode.Parse("""
            {"type":"object","properties":{
              "metadata":{"type":"object","properties":{"name":{"type":"string"}}},
              "a":{"properties":{"b":{"type":"string"}}},
              "c":{"type":"array"},
              "d":{"type":"integer","default":"x","minimum":0},
              "e":{"type":"string","pattern":"^(?!x)"},
              "f":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["k"],"items":{"type":"object","properties":{"k":{"type":"string"}}}},
              "g":{"type":"object","$ref":"#/x"}}}
            """)!.AsObject();

        var problems = OpenApiSchema.StructuralProblems(broken);

        Assert.Equal(
            [
                "openAPIV3Schema.properties.metadata: at the root, metadata may only say type: object",
                "openAPIV3Schema.properties.a: type is missing (structural schemas need a type on every node)",
                "openAPIV3Schema.properties.c: an array needs an items schema",
                "default is invalid: openAPIV3Schema.properties.d.default: expected integer, got \"x\"",
                "openAPIV3Schema.properties.e: pattern ^(?!x) uses a construct RE2 does not support",
                "openAPIV3Schema.properties.f: map key \"k\" must be required in the items",
                "openAPIV3Schema.properties.g: keyword \"$ref\" is not allowed in a CRD schema",
            ],
            problems);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Crd_PrinterColumns_PointIntoTheSchemaWithMatchingTypes(string kind)
    {
        var crd = LoadCrds()[kind];
        var schema = Schema(crd);
        var columns = Version(crd)["additionalPrinterColumns"]!.AsArray();

        Assert.Equal("Age", (string?)columns[^1]!["name"]);
        foreach (var column in columns)
        {
            var path = (string)column!["jsonPath"]!;
            var type = (string)column["type"]!;
            var target = OpenApiSchema.Resolve(schema, path);
            Assert.True(target is not null, $"{kind} column {column["name"]}: {path} is not in the schema");
            Assert.Contains(type, new[] { "integer", "number", "string", "boolean", "date" });
            if (type is "integer" or "boolean")
            {
                Assert.Equal(type, (string?)target["type"]);
            }
        }
    }

    [Fact]
    public void IPAddressPoolCrd_HasTheColumnsOperatorsLookFor()
    {
        var columns = Version(LoadCrds()["IPAddressPool"])["additionalPrinterColumns"]!.AsArray()
            .Select(c => ((string)c!["name"]!, (string)c["jsonPath"]!, (int?)c["priority"] ?? 0))
            .ToList();

        Assert.Equal(
            [
                ("Addresses", ".spec.addresses", 0),
                ("Auto Assign", ".spec.autoAssign", 0),
                ("Avoid Buggy IPs", ".spec.avoidBuggyIPs", 1),
                ("Assigned IPv4", ".status.assignedIPv4", 0),
                ("Assigned IPv6", ".status.assignedIPv6", 0),
                ("Available IPv4", ".status.availableIPv4", 0),
                ("Available IPv6", ".status.availableIPv6", 0),
                ("Age", ".metadata.creationTimestamp", 0),
            ],
            columns);
    }

    [Fact]
    public void IPAddressPoolCrd_StatusCountsAreInt64AndSaturationIsDocumented()
    {
        var status = Schema(LoadCrds()["IPAddressPool"])["properties"]!["status"]!["properties"]!;

        foreach (var name in new[] { "assignedIPv4", "assignedIPv6", "availableIPv4", "availableIPv6" })
        {
            Assert.Equal("integer", (string?)status[name]!["type"]);
            Assert.Equal("int64", (string?)status[name]!["format"]);
            Assert.Equal(0, (int?)status[name]!["minimum"]);
        }

        Assert.Contains("9223372036854775807", (string?)status["assignedIPv6"]!["description"]);
        Assert.Contains("9223372036854775807", (string?)status["availableIPv6"]!["description"]);
        Assert.Equal("map", (string?)status["conditions"]!["x-kubernetes-list-type"]);
    }

    [Theory]
    [InlineData("IPAddressPool", """{"spec":{}}""", "spec.addresses: required")]
    [InlineData("IPAddressPool", """{"spec":{"addresses":[]}}""", "spec.addresses: fewer than 1 items")]
    [InlineData("IPAddressPool", """{"spec":{"addresses":["198.51.100.7"]}}""", "spec.addresses[0]: \"198.51.100.7\" does not match ^[0-9A-Fa-f:.]+(/[0-9]{1,3}|\\s*-\\s*[0-9A-Fa-f:.]+)$")]
    [InlineData("IPAddressPool", """{"spec":{"addresses":["198.51.100.0/24"],"serviceAllocation":{"priority":-1}}}""", "spec.serviceAllocation.priority: -1 is less than 0")]
    [InlineData("IPAddressPool", """{"spec":{"addresses":["198.51.100.0/24"],"autoassign":true}}""", "spec.autoassign: unknown field (the API server would prune it)")]
    [InlineData("IPAddressPool", """{"spec":{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"a","operator":"in"}]}]}}}""",
        "spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].operator: \"in\" is not one of [\"In\",\"NotIn\",\"Exists\",\"DoesNotExist\"]")]
    [InlineData("BGPPeer", """{"spec":{"myASN":4294967296}}""", "spec.myASN: 4294967296 is greater than 4294967295")]
    [InlineData("BGPPeer", """{"spec":{"myASN":1,"peerPort":16385}}""", "spec.peerPort: 16385 is greater than 16384")]
    [InlineData("BGPPeer", """{"spec":{"myASN":1,"holdTime":"90"}}""", "spec.holdTime: \"90\" does not match ^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+)$")]
    [InlineData("BGPPeer", """{"spec":{"myASN":1,"dynamicASN":"both"}}""", "spec.dynamicASN: \"both\" is not one of [\"internal\",\"external\"]")]
    [InlineData("BGPPeer", """{"spec":{"myASN":1,"routerID":"2001:db8::1"}}""", "spec.routerID: \"2001:db8::1\" is not a valid ipv4")]
    [InlineData("BGPAdvertisement", """{"spec":{"aggregationLength":33}}""", "spec.aggregationLength: 33 is greater than 32")]
    [InlineData("BGPAdvertisement", """{"spec":{"communities":["1:2:3"]}}""", "spec.communities[0]: \"1:2:3\" does not match ^([0-9]{1,5}:[0-9]{1,5}|large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}|[^:\\s]+)$")]
    [InlineData("L2Advertisement", """{"spec":{"interfaces":["eth0:1"]}}""", "spec.interfaces[0]: \"eth0:1\" does not match ^[^/:\\s]+$")]
    [InlineData("Community", """{"spec":{"communities":[{"name":"x"}]}}""", "spec.communities[0].value: required")]
    public void Crd_Schema_RejectsWhatTheServerWouldReject(string kind, string json, string problem)
    {
        var schema = Schema(LoadCrds()[kind]);

        Assert.Contains(problem, OpenApiSchema.Validate(JsonNode.Parse(json), schema, ""));
    }

    // Every field in a CRD's schema is a declared property of the C# model and the reverse: a model property the
    // schema lacks would be pruned by the API server on every write, and a schema field the model lacks would end
    // up in extension data, unseen by the code.
    [Theory]
    [MemberData(nameof(Kinds))]
    public void Crd_SchemaAndModel_DeclareTheSameFields(string kind)
    {
        var resource = Resources().Single(r => r.Kind == kind);
        var problems = new List<string>();

        CompareObject(Schema(LoadCrds()[kind]), resource.Model, kind, problems, isRoot: true);

        Assert.Empty(problems);
    }

    private static readonly System.Text.Json.JsonSerializerOptions ModelOptions = new() { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private static void CompareObject(JsonObject schema, Type model, string path, List<string> problems, bool isRoot = false)
    {
        var info = ModelOptions.GetTypeInfo(model);
        var modelProperties = info.Properties.Where(p => !IsExtensionData(p)).ToDictionary(p => p.Name);
        var schemaProperties = schema["properties"] as JsonObject ?? [];
        foreach (var (name, _) in schemaProperties)
        {
            if (!modelProperties.ContainsKey(name))
            {
                problems.Add($"{path}.{name}: in the schema but not in {model.Name}");
            }
        }

        foreach (var (name, property) in modelProperties)
        {
            if (schemaProperties[name] is not JsonObject child)
            {
                problems.Add($"{path}.{name}: in {model.Name} but not in the schema (the server would prune it)");
                continue;
            }

            if (isRoot && name == "metadata")
            {
                continue;
            }

            CompareValue(child, property.PropertyType, $"{path}.{name}", problems);
        }
    }

    private static void CompareValue(JsonObject schema, Type type, string path, List<string> problems)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var schemaType = (string?)schema["type"];
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            Expect("array");
            if (schema["items"] is JsonObject items)
            {
                CompareValue(items, type.GetGenericArguments()[0], $"{path}[]", problems);
            }

            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            Expect("object");
            if (schema["additionalProperties"] is not JsonObject)
            {
                problems.Add($"{path}: a map needs additionalProperties");
            }

            return;
        }

        if (type == typeof(string))
        {
            Expect("string");
        }
        else if (type == typeof(bool))
        {
            Expect("boolean");
        }
        else if (type == typeof(int) || type == typeof(long))
        {
            Expect("integer");
        }
        else if (type == typeof(DateTimeOffset))
        {
            Expect("string");
        }
        else if (typeof(JsonModel).IsAssignableFrom(type))
        {
            Expect("object");
            CompareObject(schema, type, path, problems);
        }
        else
        {
            problems.Add($"{path}: model type {type.Name} has no schema mapping in this test");
        }

        void Expect(string expected)
        {
            if (schemaType != expected)
            {
                problems.Add($"{path}: schema type {schemaType} but model type {type.Name} needs {expected}");
            }
        }
    }

    private static bool IsExtensionData(JsonPropertyInfo property) =>
        property.AttributeProvider is MemberInfo member && member.GetCustomAttribute<System.Text.Json.Serialization.JsonExtensionDataAttribute>() is not null;
}
