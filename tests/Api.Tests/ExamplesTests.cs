using BareLb.Kubernetes;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BareLb.Allocator;
using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Api.Tests.Support;
using k8s;
using k8s.Models;

namespace BareLb.Api.Tests;

public sealed partial class ExamplesTests
{
    private static readonly IpRange[] DocumentationRanges =
        [Range("198.51.100.0/24"), Range("203.0.113.0/24"), Range("2001:db8::/32")];

    private static List<JsonObject> Documents() =>
        [.. Files().SelectMany(YamlDocuments.LoadFile).Select(d => d!.AsObject())];

    private static string[] Files() => [.. Directory.GetFiles(RepositoryPaths.Examples, "*.yaml").Order(StringComparer.Ordinal)];

    [Fact]
    public void Files_AreNumberedSoKubectlAppliesThemInOrder()
    {
        var names = Files().Select(Path.GetFileName).ToList();

        Assert.Equal(["00-namespaces.yaml", "10-pools.yaml", "20-l2advertisements.yaml", "30-services.yaml"], names);
        var firstKinds = Files().Select(f => (string)YamlDocuments.LoadFile(f)[0]!["kind"]!).ToList();
        Assert.Equal(["Namespace", "IPAddressPool", "L2Advertisement", "Service"], firstKinds);
    }

    [Fact]
    public void Files_UseOnlyDocumentationAddresses()
    {
        var outside = new List<string>();
        var seen = 0;
        foreach (var file in Files().Concat(Directory.GetFiles(RepositoryPaths.Crds, "*.yaml")))
        {
            var text = File.ReadAllText(file);
            foreach (Match match in AddressLike().Matches(text))
            {
                var literal = match.Value.Split('/')[0];
                if (!IPAddress.TryParse(literal, out var address))
                {
                    continue;
                }

                seen++;
                if (!DocumentationRanges.Any(r => r.Contains(address)))
                {
                    outside.Add($"{Path.GetFileName(file)}: {match.Value}");
                }
            }
        }

        Assert.Empty(outside);
        Assert.True(seen >= 10, $"only {seen} address literals found; is the pattern still matching?");
    }

    [Fact]
    public void BareLbObjects_PassTheCrdSchemasAndValidation()
    {
        var documents = Documents();
        var crds = Directory.GetFiles(RepositoryPaths.Crds, "*.yaml").SelectMany(YamlDocuments.LoadFile)
            .ToDictionary(c => (string)c!["spec"]!["names"]!["kind"]!, c => c!["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.AsObject());
        var ours = documents.Where(d => (string?)d["apiVersion"] == BareLbResources.ApiVersion).ToList();

        Assert.NotEmpty(ours);
        Assert.All(ours, d => Assert.Equal("barelb-system", (string?)d["metadata"]!["namespace"]));
        Assert.Empty(ours.SelectMany(d => OpenApiSchema.Validate(d, crds[(string)d["kind"]!], "")));

        var result = Parse(documents);
        Assert.Empty(result.Errors);
        Assert.Equal(["default", "public-web", "reserved"], result.Config.Pools.Select(p => p.Name));
        foreach (var pool in result.Config.Pools)
        {
            Assert.Equal(["workers"], result.Config.L2AdvertisementsFor(pool.Name).Select(a => a.Name));
        }
    }

    // The examples promise what each Service gets; run them through the real allocator to hold them to it.
    [Fact]
    public void Services_GetTheAddressesTheCommentsPromise()
    {
        var documents = Documents();
        var namespaces = documents.Where(d => (string?)d["kind"] == "Namespace")
            .Select(d => KubernetesJson.Deserialize<V1Namespace>(d)!)
            .ToDictionary(n => n.Metadata.Name!);
        var services = documents.Where(d => (string?)d["kind"] == "Service")
            .Select(d => KubernetesJson.Deserialize<V1Service>(d)!)
            .ToDictionary(s => s.Metadata.Name!);
        Assert.All(services.Values, s => Assert.True(namespaces.ContainsKey(s.Metadata.NamespaceProperty!), $"namespace {s.Metadata.NamespaceProperty} is not in 00-namespaces.yaml"));
        Assert.All(services.Values, s => Assert.Equal("LoadBalancer", s.Spec.Type));

        var allocator = new PoolAllocator();
        Assert.Empty(allocator.SetPools(Parse(documents).Config.Pools));
        var assigned = new Dictionary<string, Assignment>();
        foreach (var (name, service) in services)
        {
            var result = allocator.Allocate(Request(service, namespaces[service.Metadata.NamespaceProperty!]));
            Assert.True(result.Succeeded, $"{name}: {result.Failure} {result.Message}");
            assigned[name] = result.Assignment!;
        }

        Assert.Equal("default", assigned["web-ipv4"].Pool);
        Assert.Equal(IpFamily.IPv4, IpAddressMath.FamilyOf(Assert.Single(assigned["web-ipv4"].Addresses)));

        Assert.Equal("public-web", assigned["web-dual"].Pool);
        Assert.Equal([IpFamily.IPv4, IpFamily.IPv6], assigned["web-dual"].Addresses.Select(IpAddressMath.FamilyOf));
        Assert.DoesNotContain(assigned["web-dual"].Addresses, a => a.Equals(IPAddress.Parse("203.0.113.0")));

        Assert.Equal("reserved", assigned["dns"].Pool);
        Assert.Equal([IPAddress.Parse("198.51.100.210")], assigned["dns"].Addresses);

        Assert.Equal([IPAddress.Parse("198.51.100.211")], assigned["shared-http"].Addresses);
        Assert.Equal(assigned["shared-http"].Addresses, assigned["shared-https"].Addresses);
    }

    private static ConfigParseResult Parse(List<JsonObject> documents)
    {
        List<T> Of<T>(string kind) =>
            [.. documents.Where(d => (string?)d["kind"] == kind).Select(d => KubernetesJson.Deserialize<T>(d)!)];

        return ConfigParser.Parse(
            Of<IPAddressPool>("IPAddressPool"),
            Of<L2Advertisement>("L2Advertisement"),
            Of<BGPPeer>("BGPPeer"),
            Of<BGPAdvertisement>("BGPAdvertisement"),
            Of<Community>("Community"));
    }

    private static ServiceRequest Request(V1Service service, V1Namespace ns)
    {
        var annotations = service.Metadata.AnnotationsOrEmpty();
        var requested = Annotations.Find(annotations, Annotations.LoadBalancerIPsKeys)?.Value
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(IPAddress.Parse)
            .ToList() ?? [];
        return new ServiceRequest
        {
            Key = new ServiceKey(service.Metadata.NamespaceProperty!, service.Metadata.Name!),
            ServiceLabels = service.Metadata.LabelsOrEmpty(),
            NamespaceLabels = ns.Metadata.LabelsOrEmpty(),
            FamilyPolicy = Enum.Parse<IpFamilyPolicy>(service.Spec.IpFamilyPolicy ?? "SingleStack"),
            Families = [.. (service.Spec.IpFamilies ?? ["IPv4"]).Select(Enum.Parse<IpFamily>)],
            RequestedAddresses = requested,
            RequestedPool = Annotations.Find(annotations, Annotations.AddressPoolKeys)?.Value,
            SharingKey = Annotations.Find(annotations, Annotations.AllowSharedIPKeys)?.Value,
            Ports = [.. (service.Spec.Ports ?? []).Select(p => new PortKey(p.Protocol ?? "TCP", p.Port))],
            ExternalTrafficPolicy = Enum.Parse<TrafficPolicy>(service.Spec.ExternalTrafficPolicy ?? "Cluster"),
            Selector = service.Spec.Selector is null ? null : new Dictionary<string, string>(service.Spec.Selector),
        };
    }

    private static IpRange Range(string text) =>
        IpRange.TryParse(text, out var range, out var error) ? range : throw new ArgumentException(error);

    // Dotted quads, and hex groups joined by at least two colons (IPv6), with an optional prefix length.
    [GeneratedRegex(@"(?<![\w.:])(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7})(/\d{1,3})?(?![\w.:])")]
    private static partial Regex AddressLike();
}
