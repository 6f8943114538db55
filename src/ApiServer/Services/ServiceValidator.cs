using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;
using static BareLb.ApiServer.Services.ServiceFields;

namespace BareLb.ApiServer.Services;

// The part of ValidateService / ValidateServiceUpdate / ValidateServiceStatusUpdate (pkg/apis/core/validation) that
// our clients and tests exercise, with the real field paths and messages.
internal static class ServiceValidator
{
    private const string InvalidIpMessage = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
    private static readonly string[] Types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    private static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];
    private static readonly string[] Policies = ["PreferDualStack", "RequireDualStack", "SingleStack"];
    private static readonly string[] Families = ["IPv4", "IPv6"];
    private static readonly string[] IpModes = ["Proxy", "VIP"];

    public static void Validate(JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = JsonTree.Obj(obj, "spec") ?? [];
        var type = JsonTree.Str(spec, "type") ?? "";
        if (!Types.Contains(type))
        {
            errors.Add(FieldError.NotSupported("spec.type", spec["type"], Types));
        }

        var clusterIps = (spec["clusterIPs"] as JsonArray ?? []).Select(n => JsonTree.AsString(n) ?? "").ToList();
        var headless = clusterIps.Count > 0 && clusterIps[0] == "None";
        ValidatePorts(spec, type, headless, errors);

        var affinity = JsonTree.Str(spec, "sessionAffinity");
        if (affinity is not ("None" or "ClientIP"))
        {
            errors.Add(FieldError.NotSupported("spec.sessionAffinity", spec["sessionAffinity"], ["ClientIP", "None"]));
        }

        if (spec["externalTrafficPolicy"] is { } etp)
        {
            if (type is not ("NodePort" or "LoadBalancer"))
            {
                errors.Add(FieldError.Invalid("spec.externalTrafficPolicy", etp, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
            }
            else if (JsonTree.AsString(etp) is not ("Cluster" or "Local"))
            {
                errors.Add(FieldError.NotSupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]));
            }
        }

        if (spec["internalTrafficPolicy"] is { } itp && JsonTree.AsString(itp) is not ("Cluster" or "Local"))
        {
            errors.Add(FieldError.NotSupported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]));
        }

        if (spec["allocateLoadBalancerNodePorts"] is not null && type != "LoadBalancer")
        {
            errors.Add(FieldError.Forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"));
        }

        if (spec["loadBalancerClass"] is { } lbClass)
        {
            if (type != "LoadBalancer")
            {
                errors.Add(FieldError.Forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
            }
            else if (old is not null && JsonTree.Str(JsonTree.Obj(old, "spec"), "type") == "LoadBalancer" &&
                     !JsonNode.DeepEquals(lbClass, JsonTree.Obj(old, "spec")?["loadBalancerClass"]))
            {
                errors.Add(FieldError.Invalid("spec.loadBalancerClass", lbClass, "may not change once set"));
            }
        }

        if (JsonTree.Str(spec, "loadBalancerIP") is { Length: > 0 } lbIp && !IpText.TryParse(lbIp, out _))
        {
            errors.Add(FieldError.Invalid("spec.loadBalancerIP", lbIp, InvalidIpMessage));
        }

        if (spec["loadBalancerSourceRanges"] is JsonArray ranges)
        {
            for (var i = 0; i < ranges.Count; i++)
            {
                if (!IpText.TryParseCidr(JsonTree.AsString(ranges[i])?.Trim(), out _, out _))
                {
                    errors.Add(FieldError.Invalid($"spec.loadBalancerSourceRanges[{i}]", ranges[i], "must be a valid CIDR"));
                }
            }
        }

        if (type == "ExternalName")
        {
            var externalName = JsonTree.Str(spec, "externalName");
            if (string.IsNullOrEmpty(externalName))
            {
                errors.Add(FieldError.Required("spec.externalName"));
            }
            else if (!Names.IsDns1123Subdomain(externalName.TrimEnd('.')))
            {
                errors.Add(FieldError.Invalid("spec.externalName", externalName, "should be a domain with at least two segments separated by dots"));
            }

            if (!string.IsNullOrEmpty(JsonTree.Str(spec, "clusterIP")))
            {
                errors.Add(FieldError.Forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
            }
        }

        ValidateIpFamilies(spec, clusterIps, errors);
        if (old is not null)
        {
            ValidateImmutableAllocations(spec, JsonTree.Obj(old, "spec") ?? [], errors);
        }
    }

    private static void ValidatePorts(JsonObject spec, string type, bool headless, List<FieldError> errors)
    {
        var ports = spec["ports"] as JsonArray ?? [];
        if (ports.Count == 0 && type != "ExternalName" && !headless)
        {
            errors.Add(FieldError.Required("spec.ports"));
            return;
        }

        var names = new HashSet<string>();
        var keys = new HashSet<string>();
        for (var i = 0; i < ports.Count; i++)
        {
            var path = $"spec.ports[{i}]";
            if (ports[i] is not JsonObject p)
            {
                errors.Add(FieldError.Invalid(path, ports[i], "must be an object"));
                continue;
            }

            var name = JsonTree.Str(p, "name") ?? "";
            if (ports.Count > 1 && name.Length == 0)
            {
                errors.Add(FieldError.Required(path + ".name"));
            }
            else if (name.Length > 0)
            {
                errors.AddRange(Names.Validate(name, NameRule.Dns1123Label, path + ".name"));
                if (!names.Add(name))
                {
                    errors.Add(FieldError.Duplicate(path + ".name", name));
                }
            }

            if (!JsonTree.TryGetLong(p["port"], out var port) || port is < 1 or > 65535)
            {
                errors.Add(p["port"] is null
                    ? FieldError.Required(path + ".port")
                    : FieldError.Invalid(path + ".port", p["port"], "must be between 1 and 65535, inclusive"));
            }

            var protocol = JsonTree.Str(p, "protocol") ?? "";
            if (!Protocols.Contains(protocol))
            {
                errors.Add(FieldError.NotSupported(path + ".protocol", p["protocol"], Protocols));
            }

            if (JsonTree.TryGetLong(p["nodePort"], out var np) && np != 0 && (np is < 1 or > 65535))
            {
                errors.Add(FieldError.Invalid(path + ".nodePort", np, "must be between 1 and 65535, inclusive"));
            }

            if (p["targetPort"] is { } target)
            {
                if (JsonTree.AsString(target) is { } named)
                {
                    if (named.Length > 15 || !named.Any(char.IsAsciiLetterLower) || named.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')) ||
                        named.StartsWith('-') || named.EndsWith('-') || named.Contains("--", StringComparison.Ordinal))
                    {
                        errors.Add(FieldError.Invalid(path + ".targetPort", named, "must be no more than 15 characters, contain only lowercase alphanumeric characters or '-', contain at least one letter, and not start or end with '-' or contain '--'"));
                    }
                }
                else if (!JsonTree.TryGetLong(target, out var tp) || tp is < 1 or > 65535)
                {
                    errors.Add(FieldError.Invalid(path + ".targetPort", target, "must be between 1 and 65535, inclusive"));
                }
            }

            if (!keys.Add($"{port}/{protocol}"))
            {
                errors.Add(FieldError.Duplicate(path, p));
            }
        }
    }

    private static void ValidateIpFamilies(JsonObject spec, List<string> clusterIps, List<FieldError> errors)
    {
        if (spec["ipFamilyPolicy"] is { } policy && !Policies.Contains(JsonTree.AsString(policy) ?? ""))
        {
            errors.Add(FieldError.NotSupported("spec.ipFamilyPolicy", policy, Policies));
        }

        var families = spec["ipFamilies"] as JsonArray ?? [];
        var seen = new HashSet<string>();
        for (var i = 0; i < families.Count; i++)
        {
            var f = JsonTree.AsString(families[i]) ?? "";
            if (!Families.Contains(f))
            {
                errors.Add(FieldError.NotSupported($"spec.ipFamilies[{i}]", families[i], Families));
            }
            else if (!seen.Add(f))
            {
                errors.Add(FieldError.Duplicate($"spec.ipFamilies[{i}]", families[i]));
            }
        }

        if (families.Count > 2)
        {
            errors.Add(FieldError.Invalid("spec.ipFamilies", families, "may not have more than 2 families"));
        }

        if (JsonTree.Str(spec, "ipFamilyPolicy") == "SingleStack")
        {
            if (families.Count > 1)
            {
                errors.Add(FieldError.Invalid("spec.ipFamilies", families, "when spec.ipFamilyPolicy is SingleStack, only one family may be specified"));
            }

            if (clusterIps.Count > 1)
            {
                errors.Add(FieldError.Invalid("spec.clusterIPs", spec["clusterIPs"], "when spec.ipFamilyPolicy is SingleStack, only one clusterIP may be specified"));
            }
        }

        var clusterIp = JsonTree.Str(spec, "clusterIP") ?? "";
        if (clusterIps.Count > 0 && clusterIp.Length > 0 && clusterIps[0] != clusterIp)
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs", spec["clusterIPs"], "first value must match `spec.clusterIP`"));
        }

        if (clusterIps.Count > 2)
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs", spec["clusterIPs"], "may only hold up to 2 values"));
        }

        for (var i = 0; i < clusterIps.Count; i++)
        {
            if (clusterIps[i] == "None")
            {
                if (i > 0 || clusterIps.Count > 1)
                {
                    errors.Add(FieldError.Invalid($"spec.clusterIPs[{i}]", clusterIps[i], InvalidIpMessage));
                }

                continue;
            }

            if (!IpText.TryParse(clusterIps[i], out var ip))
            {
                errors.Add(FieldError.Invalid($"spec.clusterIPs[{i}]", clusterIps[i], InvalidIpMessage));
                continue;
            }

            if (i < families.Count && JsonTree.AsString(families[i]) is { } fam && Families.Contains(fam) && fam != IpText.Family(ip))
            {
                errors.Add(FieldError.Invalid($"spec.ipFamilies[{i}]", fam, $"does not match IP family of spec.clusterIPs[{i}]"));
            }
        }

        if (clusterIps.Count == 2 && IpText.TryParse(clusterIps[0], out var a) && IpText.TryParse(clusterIps[1], out var b) &&
            a.AddressFamily == b.AddressFamily)
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs", spec["clusterIPs"], "may specify no more than one IP for each IP family"));
        }
    }

    private static void ValidateImmutableAllocations(JsonObject spec, JsonObject oldSpec, List<FieldError> errors)
    {
        if (!NeedsClusterIp(oldSpec) || !NeedsClusterIp(spec))
        {
            return;
        }

        var oldIps = oldSpec["clusterIPs"] as JsonArray ?? [];
        var newIps = spec["clusterIPs"] as JsonArray ?? [];
        if (oldIps.Count > 0 && newIps.Count > 0 && JsonTree.AsString(oldIps[0]) != JsonTree.AsString(newIps[0]))
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs[0]", newIps[0], "may not change once set"));
        }

        var oldFamilies = oldSpec["ipFamilies"] as JsonArray ?? [];
        var newFamilies = spec["ipFamilies"] as JsonArray ?? [];
        if (oldFamilies.Count > 0 && newFamilies.Count > 0 && JsonTree.AsString(oldFamilies[0]) != JsonTree.AsString(newFamilies[0]))
        {
            errors.Add(FieldError.Invalid("spec.ipFamilies[0]", newFamilies[0], "may not change once set"));
        }

        if (oldIps.Count == 2 && newIps.Count == 2 && JsonTree.AsString(oldIps[1]) != JsonTree.AsString(newIps[1]))
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs[1]", newIps[1], "may not change once set"));
        }
    }

    // ValidateLoadBalancerStatus as of 1.32: ingress only on LoadBalancer Services (AllowServiceLBStatusOnNonLB is
    // locked off), every ip a valid IP, ipMode required with an ip (defaulting supplies VIP) and refused without one.
    public static void ValidateStatus(JsonObject obj, List<FieldError> errors)
    {
        var ingress = JsonTree.Arr(JsonTree.Obj(obj["status"], "loadBalancer"), "ingress");
        if (ingress is null || ingress.Count == 0)
        {
            return;
        }

        if (JsonTree.Str(obj["spec"], "type") != "LoadBalancer")
        {
            errors.Add(FieldError.Forbidden("status.loadBalancer.ingress", "may only be used when `spec.type` is 'LoadBalancer'"));
            return;
        }

        for (var i = 0; i < ingress.Count; i++)
        {
            var path = $"status.loadBalancer.ingress[{i}]";
            if (ingress[i] is not JsonObject ing)
            {
                errors.Add(FieldError.Invalid(path, ingress[i], "must be an object"));
                continue;
            }

            var ip = JsonTree.Str(ing, "ip");
            if (ing["ip"] is { } ipNode && ip is null)
            {
                errors.Add(FieldError.Invalid(path + ".ip", ipNode, InvalidIpMessage));
            }
            else if (!string.IsNullOrEmpty(ip) && !IpText.TryParse(ip, out _))
            {
                errors.Add(FieldError.Invalid(path + ".ip", ip, InvalidIpMessage));
            }

            var mode = ing["ipMode"];
            if (mode is null)
            {
                if (!string.IsNullOrEmpty(ip))
                {
                    errors.Add(FieldError.Required(path + ".ipMode", "must be specified when `ip` is set"));
                }
            }
            else if (string.IsNullOrEmpty(ip))
            {
                errors.Add(FieldError.Forbidden(path + ".ipMode", "may not be specified when `ip` is not set"));
            }
            else if (!IpModes.Contains(JsonTree.AsString(mode)))
            {
                errors.Add(FieldError.NotSupported(path + ".ipMode", mode, IpModes));
            }

            if (JsonTree.Str(ing, "hostname") is { Length: > 0 } host)
            {
                if (!Names.IsDns1123Subdomain(host))
                {
                    errors.Add(FieldError.Invalid(path + ".hostname", host, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
                }

                if (IpText.TryParse(host, out _))
                {
                    errors.Add(FieldError.Invalid(path + ".hostname", host, "must be a DNS name, not an IP address"));
                }
            }
        }
    }
}
