using k8s;
using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Api.Tests.Support;

namespace BareLb.Api.Tests;

// MetalLB's own configuration samples, with only apiVersion and namespace changed, must be accepted by BareLb's
// CRD schemas (nothing rejected, nothing pruned), map onto declared model properties (nothing lost in extension
// data) and pass BareLb's validation.
public sealed class MetalLBCompatibilityTests
{
    private static readonly HashSet<string> ModeledKinds = ["IPAddressPool", "L2Advertisement", "BGPPeer", "BGPAdvertisement", "Community"];

    // metallb.io kinds BareLb does not have, and why.
    private static readonly Dictionary<string, string> UnmodeledKinds = new()
    {
        ["BFDProfile"] = "BFD is not implemented yet; BGPPeer.spec.bfdProfile is kept and validated as a name only",
    };

    // Sample fields BareLb reads but does not model as properties, with the reason. Empty: every field is modeled.
    private static readonly Dictionary<string, string> UnmodeledFields = new();

    // Sample objects BareLb's validation rejects on purpose, with the reason. Empty: every sample is accepted.
    private static readonly Dictionary<string, string> RejectedSamples = new();

    private sealed record Sample(string File, string Kind, string Name, JsonObject Converted);

    private static List<Sample> LoadSamples(List<string>? skippedKinds = null)
    {
        var samples = new List<Sample>();
        foreach (var path in Directory.GetFiles(RepositoryPaths.MetalLBSamples, "*.yaml").Order(StringComparer.Ordinal))
        {
            foreach (var document in YamlDocuments.LoadFile(path))
            {
                var obj = document!.AsObject();
                var apiVersion = (string?)obj["apiVersion"] ?? "";
                var kind = (string)obj["kind"]!;
                if (!apiVersion.StartsWith("metallb.io/", StringComparison.Ordinal))
                {
                    continue;
                }

                if (!ModeledKinds.Contains(kind))
                {
                    skippedKinds?.Add(kind);
                    continue;
                }

                // The only edits a user makes: the group/version (BGPPeer v1beta2 becomes v1beta1) and the namespace.
                obj["apiVersion"] = BareLbResources.ApiVersion;
                obj["metadata"]!["namespace"] = "barelb-system";
                samples.Add(new Sample(Path.GetFileName(path), kind, (string)obj["metadata"]!["name"]!, obj));
            }
        }

        return samples;
    }

    [MetalLBSamplesFact]
    public void Samples_CoverEveryModeledKindAndOnlyDocumentedOthers()
    {
        var skipped = new List<string>();
        var samples = LoadSamples(skipped);

        Assert.Equal(ModeledKinds.Order(), samples.Select(s => s.Kind).Distinct().Order());
        Assert.All(skipped, kind => Assert.True(UnmodeledKinds.ContainsKey(kind), $"metallb.io kind {kind} is neither modeled nor documented as unmodeled"));
    }

    [MetalLBSamplesFact]
    public void Samples_AreAcceptedByTheCrdSchemasWithoutPruning()
    {
        var crds = Directory.GetFiles(RepositoryPaths.Crds, "*.yaml").SelectMany(YamlDocuments.LoadFile)
            .ToDictionary(c => (string)c!["spec"]!["names"]!["kind"]!, c => c!["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.AsObject());

        var problems = LoadSamples()
            .SelectMany(s => OpenApiSchema.Validate(s.Converted, crds[s.Kind], "").Select(p => $"{s.File} {s.Kind}/{s.Name}: {p}"))
            .ToList();

        Assert.Empty(problems);
    }

    [MetalLBSamplesFact]
    public void Samples_MapOntoDeclaredPropertiesAndRoundTrip()
    {
        var lost = new List<string>();
        foreach (var sample in LoadSamples())
        {
            var (model, json) = Deserialize(sample);
            lost.AddRange(ExtensionFields.Of(model)
                .Where(field => !UnmodeledFields.ContainsKey($"{sample.Kind}.{field}"))
                .Select(field => $"{sample.File} {sample.Kind}/{sample.Name}: {field}"));
            // The models always carry a spec, so an object written without one comes back with "spec": {}.
            var expected = sample.Converted.DeepClone().AsObject();
            expected["spec"] ??= new JsonObject();
            Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(json)),
                $"{sample.File} {sample.Kind}/{sample.Name} changed in a round trip:\n{sample.Converted.ToJsonString()}\n{json}");
        }

        Assert.Empty(lost);
    }

    [MetalLBSamplesFact]
    public void Samples_PassValidationFilePerFile()
    {
        var rejected = new List<string>();
        foreach (var file in LoadSamples().GroupBy(s => s.File))
        {
            var objects = file.Select(s => Deserialize(s).Model).ToList();
            var result = ConfigParser.Parse(
                objects.OfType<IPAddressPool>(), objects.OfType<L2Advertisement>(), objects.OfType<BGPPeer>(),
                objects.OfType<BGPAdvertisement>(), objects.OfType<Community>());

            rejected.AddRange(result.Errors
                .Where(e => !RejectedSamples.ContainsKey($"{file.Key} {e.Kind}/{e.Name}"))
                .Select(e => $"{file.Key}: {e}"));
            var accepted = result.Config.Pools.Count + result.Config.L2Advertisements.Count + result.Config.Peers.Count
                + result.Config.BgpAdvertisements.Count + result.Config.CommunityAliases.Count;
            Assert.True(accepted > 0, $"{file.Key}: nothing was parsed");
        }

        Assert.Empty(rejected);
    }

    [MetalLBSamplesFact]
    public void Samples_WithCommunityAlias_ResolveTheAlias()
    {
        var samples = LoadSamples().Where(s => s.File == "bgpadvertisement_community_alias.yaml").Select(s => Deserialize(s).Model).ToList();

        var result = ConfigParser.Parse([], [], [], samples.OfType<BGPAdvertisement>(), samples.OfType<Community>());

        Assert.Equal([BgpCommunity.Standard(65535, 65282)], Assert.Single(result.Config.BgpAdvertisements).Communities);
    }

    private static (object Model, string Json) Deserialize(Sample sample)
    {
        var text = sample.Converted.ToJsonString();
        return sample.Kind switch
        {
            "IPAddressPool" => Typed(KubernetesJson.Deserialize<IPAddressPool>(text)!),
            "L2Advertisement" => Typed(KubernetesJson.Deserialize<L2Advertisement>(text)!),
            "BGPPeer" => Typed(KubernetesJson.Deserialize<BGPPeer>(text)!),
            "BGPAdvertisement" => Typed(KubernetesJson.Deserialize<BGPAdvertisement>(text)!),
            "Community" => Typed(KubernetesJson.Deserialize<Community>(text)!),
            _ => throw new ArgumentOutOfRangeException(nameof(sample), sample.Kind, null),
        };

        static (object, string) Typed<T>(T model) =>
            (model!, KubernetesJson.Serialize(model));
    }
}
