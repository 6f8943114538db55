using BareLb.Kubernetes;
using System.Net;
using BareLb.Allocator;
using BareLb.Api;
using k8s;
using k8s.Models;

namespace BareLb.Controller.Services;

/// <summary>A field of a Service that cannot be honoured, with the reason.</summary>
public sealed record RequestError(string Field, string Reason)
{
    public override string ToString() => $"{Field}: {Reason}";
}

/// <summary>
/// The outcome of reading what a Service asks for. <see cref="Request"/> is null when <see cref="Errors"/> is not
/// empty. <see cref="Warnings"/> name deprecated forms that still work.
/// </summary>
public sealed record ParsedServiceRequest(ServiceRequest? Request, IReadOnlyList<RequestError> Errors, IReadOnlyList<string> Warnings);

/// <summary>
/// Turns a Service (and its namespace's labels) into an allocator request. The annotation names follow MetalLB's,
/// under barelb.io/; the metallb.io/ and metallb.universe.tf/ forms are honoured so that migrated Services keep
/// working, with barelb.io/ winning and a warning pointing to the new name.
/// </summary>
public static class ServiceRequestParser
{
    public static ParsedServiceRequest Parse(V1Service service, IReadOnlyDictionary<string, string>? namespaceLabels)
    {
        var errors = new List<RequestError>();
        var warnings = new List<string>();
        var meta = service.Metadata;
        var spec = service.Spec;
        var annotations = meta.AnnotationsOrEmpty();

        var families = ParseFamilies(spec, errors);
        var policy = ParsePolicy(spec, errors);

        var ipsAnnotation = Annotation(annotations, Annotations.LoadBalancerIPsKeys, warnings);
        var requested = new List<IPAddress>();
        if (ipsAnnotation is { } ips)
        {
            if (!string.IsNullOrEmpty(spec.LoadBalancerIP))
            {
                errors.Add(new RequestError("spec.loadBalancerIP",
                    $"set together with annotation {ips.Key}; use only the annotation"));
            }
            ParseAddresses(ips.Value, $"metadata.annotations[{ips.Key}]", requested, errors);
        }
        else if (!string.IsNullOrEmpty(spec.LoadBalancerIP))
        {
            warnings.Add($"spec.loadBalancerIP is deprecated; use annotation {Annotations.LoadBalancerIPs}");
            ParseAddresses(spec.LoadBalancerIP, "spec.loadBalancerIP", requested, errors);
        }

        foreach (var address in requested)
        {
            var family = IpAddressMath.FamilyOf(address);
            if (!families.Contains(family) && policy == IpFamilyPolicy.SingleStack)
            {
                errors.Add(new RequestError(ipsAnnotation is null ? "spec.loadBalancerIP" : $"metadata.annotations[{ipsAnnotation.Value.Key}]",
                    $"address {address} is {family} but the Service is single-stack {families[0]} (spec.ipFamilies)"));
            }
        }
        if (policy == IpFamilyPolicy.RequireDualStack && requested.Count == 1)
        {
            errors.Add(new RequestError($"metadata.annotations[{ipsAnnotation?.Key ?? Annotations.LoadBalancerIPs}]",
                "a RequireDualStack Service that requests addresses must request one of each family"));
        }

        var pool = Annotation(annotations, Annotations.AddressPoolKeys, warnings)?.Value.Trim();
        if (pool is { Length: 0 })
        {
            errors.Add(new RequestError($"metadata.annotations[{Annotations.AddressPool}]", "empty pool name"));
        }
        var sharing = Annotation(annotations, Annotations.AllowSharedIPKeys, warnings)?.Value.Trim();
        if (sharing is { Length: 0 })
        {
            errors.Add(new RequestError($"metadata.annotations[{Annotations.AllowSharedIP}]", "empty sharing key"));
        }

        var ports = new List<PortKey>();
        foreach (var (port, i) in (spec.Ports ?? []).Select((p, i) => (p, i)))
        {
            ports.Add(new PortKey(string.IsNullOrEmpty(port.Protocol) ? "TCP" : port.Protocol, port.Port));
        }

        var trafficPolicy = spec.ExternalTrafficPolicy switch
        {
            null or "" or "Cluster" => TrafficPolicy.Cluster,
            "Local" => TrafficPolicy.Local,
            var other => Fail(errors, "spec.externalTrafficPolicy", $"unknown value \"{other}\" (Cluster or Local)", TrafficPolicy.Cluster),
        };

        if (errors.Count > 0)
        {
            return new ParsedServiceRequest(null, errors, warnings);
        }

        var request = new ServiceRequest
        {
            Key = new ServiceKey(meta.NamespaceProperty ?? "default", meta.Name ?? ""),
            ServiceLabels = meta.LabelsOrEmpty(),
            NamespaceLabels = namespaceLabels ?? new Dictionary<string, string>(),
            FamilyPolicy = policy,
            Families = families,
            RequestedAddresses = requested,
            RequestedPool = pool,
            SharingKey = sharing,
            Ports = ports,
            ExternalTrafficPolicy = trafficPolicy,
            Selector = spec.Selector is null ? null : new Dictionary<string, string>(spec.Selector),
            RecordedPool = RecordedPool(service),
        };
        return new ParsedServiceRequest(request, errors, warnings);
    }

    /// <summary>
    /// What the user wrote, as one comparable text: the spec, labels and annotations other than the one the controller
    /// writes. The controller's own writes (status, its annotation) leave it unchanged. (The spec itself rather than
    /// metadata.generation: not every server version keeps a generation for Services.)
    /// </summary>
    public static string RequestVersion(V1Service service) =>
        $"{service.Metadata.Uid}|{KubernetesJson.Serialize(service.Spec)}|" +
        string.Join(",", service.Metadata.LabelsOrEmpty().OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "|" +
        string.Join(",", service.Metadata.AnnotationsOrEmpty().Where(a => a.Key != Annotations.IPAllocatedFromPool)
            .OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"));

    /// <summary>The pool the controller recorded for the Service (annotation barelb.io/ip-allocated-from-pool).</summary>
    public static string? RecordedPool(V1Service service) =>
        service.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.IPAllocatedFromPool) is { Length: > 0 } pool ? pool : null;

    /// <summary>The addresses in status.loadBalancer.ingress, skipping hostnames and unparsable entries.</summary>
    public static IReadOnlyList<IPAddress> IngressAddresses(V1Service service)
    {
        var result = new List<IPAddress>();
        foreach (var ingress in service.Status?.LoadBalancer?.Ingress ?? [])
        {
            if (ingress.Ip is { } text && IPAddress.TryParse(text, out var address))
            {
                result.Add(address);
            }
        }
        return result;
    }

    /// <summary>The first present of <paramref name="keys"/> (barelb.io/ first), warning about the legacy forms.</summary>
    private static AnnotationValue? Annotation(IReadOnlyDictionary<string, string> annotations, IReadOnlyList<string> keys, List<string> warnings)
    {
        var found = Annotations.FindAll(annotations, keys);
        if (found.Count == 0)
        {
            return null;
        }
        var winner = found[0];
        if (winner.Key != keys[0])
        {
            warnings.Add($"annotation {winner.Key} is deprecated; use {keys[0]}");
        }
        foreach (var ignored in found.Skip(1))
        {
            warnings.Add($"annotation {ignored.Key} is ignored because {winner.Key} is set");
        }
        return winner;
    }

    private static void ParseAddresses(string text, string field, List<IPAddress> into, List<RequestError> errors)
    {
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!IPAddress.TryParse(part, out var address) || part.Contains('/') || part.Contains('%'))
            {
                errors.Add(new RequestError(field, $"\"{part}\" is not an IP address"));
                continue;
            }
            if (address.IsIPv4MappedToIPv6)
            {
                errors.Add(new RequestError(field, $"\"{part}\" is an IPv4-mapped IPv6 address; write the IPv4 address"));
                continue;
            }
            var family = IpAddressMath.FamilyOf(address);
            if (into.Any(a => IpAddressMath.FamilyOf(a) == family))
            {
                errors.Add(new RequestError(field, $"more than one {family} address (at most one per family)"));
                continue;
            }
            into.Add(address);
        }
        if (into.Count == 0 && !errors.Any(e => e.Field == field))
        {
            errors.Add(new RequestError(field, "no address given"));
        }
    }

    private static IReadOnlyList<IpFamily> ParseFamilies(V1ServiceSpec spec, List<RequestError> errors)
    {
        var families = new List<IpFamily>();
        foreach (var (name, i) in (spec.IpFamilies ?? []).Select((f, i) => (f, i)))
        {
            switch (name)
            {
                case "IPv4" when !families.Contains(IpFamily.IPv4): families.Add(IpFamily.IPv4); break;
                case "IPv6" when !families.Contains(IpFamily.IPv6): families.Add(IpFamily.IPv6); break;
                default: errors.Add(new RequestError($"spec.ipFamilies[{i}]", $"unsupported or repeated family \"{name}\"")); break;
            }
        }
        // The API server always fills ipFamilies; an empty list only comes from an old or hand-built object.
        return families.Count > 0 ? families : [IpFamily.IPv4];
    }

    private static IpFamilyPolicy ParsePolicy(V1ServiceSpec spec, List<RequestError> errors) => spec.IpFamilyPolicy switch
    {
        null or "" or "SingleStack" => IpFamilyPolicy.SingleStack,
        "PreferDualStack" => IpFamilyPolicy.PreferDualStack,
        "RequireDualStack" => IpFamilyPolicy.RequireDualStack,
        var other => Fail(errors, "spec.ipFamilyPolicy", $"unknown value \"{other}\"", IpFamilyPolicy.SingleStack),
    };

    private static T Fail<T>(List<RequestError> errors, string field, string reason, T fallback)
    {
        errors.Add(new RequestError(field, reason));
        return fallback;
    }
}
